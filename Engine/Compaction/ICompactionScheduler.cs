using SlateSharp.Manifest;

namespace SlateSharp.Compaction;

/// <summary>Decides what to compact next from a manifest alone: a policy, with no I/O. Other policies plug in here.</summary>
internal interface ICompactionScheduler
{
    /// <summary>The next job, or null when nothing needs compacting.</summary>
    CompactionJob? Pick(DbManifest manifest);
}
