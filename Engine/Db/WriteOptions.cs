namespace SlateSharp;

/// <summary>How a write is acknowledged.</summary>
public sealed class WriteOptions
{
    /// <summary>The default: wait until the write is stored in a WAL object.</summary>
    public static WriteOptions Default { get; } = new();

    /// <summary>Acknowledge as soon as the write is in the memtable (readable at once, durable at the next WAL upload).</summary>
    public static WriteOptions NoWait { get; } = new() { AwaitDurable = false };

    /// <summary>
    /// True (the default): return only after the write is in a stored WAL object, so a crash cannot lose it.
    /// False: return once it is in the memtable; a crash before the next WAL upload (at most the flush interval) loses it.
    /// </summary>
    public bool AwaitDurable { get; init; } = true;

    /// <summary>
    /// Puts expire this long after they are written (by the database's <see cref="DbOptions.TimeProvider"/>): from
    /// then on reads and scans no longer see them (nor any older value of the key), and compaction turns them into
    /// tombstones. Deletes ignore it. Null (the default): no expiry. Positive; not together with <see cref="ExpireAt"/>.
    /// </summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>Puts expire at this instant (millisecond precision), as with <see cref="Ttl"/>; not together with it.</summary>
    public DateTimeOffset? ExpireAt { get; init; }

    /// <summary>The expiry of a put written at <paramref name="now"/>, in Unix milliseconds, or null.</summary>
    internal long? ExpiryFor(DateTimeOffset now)
    {
        if (Ttl is { } ttl)
        {
            if (ExpireAt is not null)
            {
                throw Errors.Invalid($"set Ttl or ExpireAt, not both (ttl={ttl} expire_at={ExpireAt:O})");
            }

            if (ttl <= TimeSpan.Zero)
            {
                throw Errors.Invalid($"Ttl must be positive (ttl={ttl})");
            }

            return (now + ttl).ToUnixTimeMilliseconds();
        }

        return ExpireAt?.ToUnixTimeMilliseconds();
    }
}
