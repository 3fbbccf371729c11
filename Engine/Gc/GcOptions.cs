namespace SlateSharp;

/// <summary>
/// What the garbage collector may delete and when (docs/design/gc-and-readers.md, "Garbage collection"). Every age
/// is measured against the collector's clock; the defaults leave a wide margin for clock skew between processes.
/// </summary>
public sealed class GcOptions
{
    /// <summary>
    /// An SST no live manifest references is deleted only when both its id's mint time and its stored time are older
    /// than this. It must exceed the longest time a writer or compactor takes from minting an SST id to publishing it
    /// in a manifest, plus clock skew, and the longest time a process without a lease keeps reading a manifest after it
    /// stopped being the latest. Default 1 hour.
    /// </summary>
    public TimeSpan SstMinAge { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A manifest version is deleted only when it was stored longer ago than this. Default 1 hour. It must exceed the
    /// longest a writer or compactor can pause between reading a manifest and writing the next: a shorter value lets a
    /// paused one recreate a deleted version and lose its change (docs/design/gc-and-readers.md).
    /// </summary>
    public TimeSpan ManifestMinAge { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The newest this many manifest versions are always kept. Default 10; at least 1 (the latest).</summary>
    public int ManifestsKept { get; init; } = 10;

    /// <summary>A WAL object already in SSTs is deleted only when it was stored longer ago than this. Default 10 minutes.</summary>
    public TimeSpan WalMinAge { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A WAL fence record is kept this long, whatever else allows its deletion: a writer paused mid-write for less than
    /// this still finds the fence at the id it retries and learns it was fenced. Default 24 hours; at least
    /// <see cref="WalMinAge"/>.
    /// </summary>
    public TimeSpan FenceMinAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>A reader lease expired for longer than this (or unreadable and stored longer ago) is deleted. Default 1 hour.</summary>
    public TimeSpan LeaseGrace { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Report what would be deleted and delete nothing. Default false.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// How often an embedded database (<see cref="DbOptions.GarbageCollection"/>) or a
    /// <see cref="DbGarbageCollector.RunAsync"/> loop collects; null runs no background collection in a database (and
    /// once a minute in <see cref="DbGarbageCollector.RunAsync"/>). Default null.
    /// </summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>Throws <see cref="ErrorKind.Invalid"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        Require(SstMinAge > TimeSpan.Zero, $"SstMinAge must be positive (sst_min_age={SstMinAge})");
        Require(ManifestMinAge > TimeSpan.Zero, $"ManifestMinAge must be positive (manifest_min_age={ManifestMinAge})");
        Require(ManifestsKept >= 1, $"ManifestsKept must be at least 1: the latest manifest is never deleted (manifests_kept={ManifestsKept})");
        Require(WalMinAge > TimeSpan.Zero, $"WalMinAge must be positive (wal_min_age={WalMinAge})");
        Require(FenceMinAge >= WalMinAge, $"FenceMinAge must be at least WalMinAge (fence_min_age={FenceMinAge} wal_min_age={WalMinAge})");
        Require(LeaseGrace >= TimeSpan.Zero, $"LeaseGrace must not be negative (lease_grace={LeaseGrace})");
        Require(Interval is null || Interval > TimeSpan.Zero, $"Interval must be positive or null (interval={Interval})");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw Errors.Invalid("invalid gc options: " + message);
        }
    }
}
