namespace SlateSharp;

/// <summary>How <see cref="Db.CreateCheckpointAsync"/> makes a checkpoint. Invalid values fail the call.</summary>
public sealed class CheckpointOptions
{
    /// <summary>How long the checkpoint lives; null (the default) keeps it until it is deleted.</summary>
    public TimeSpan? Lifetime { get; init; }

    /// <summary>An optional label, stored with it (at most 65,535 UTF-8 bytes).</summary>
    public string? Name { get; init; }

    internal void Validate()
    {
        if (Lifetime is { } lifetime && lifetime <= TimeSpan.Zero)
        {
            throw Errors.Invalid($"invalid options: Lifetime must be positive (lifetime={lifetime})");
        }

        if (Name is { } name && System.Text.Encoding.UTF8.GetByteCount(name) > ushort.MaxValue)
        {
            throw Errors.Invalid($"invalid options: Name must be at most {ushort.MaxValue} UTF-8 bytes (name_bytes={System.Text.Encoding.UTF8.GetByteCount(name)})");
        }
    }
}
