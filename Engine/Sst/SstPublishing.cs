using SlateSharp.Manifest;

namespace SlateSharp.Sst;

/// <summary>
/// The rule that keeps GC from deleting an SST a flush or compaction is about to publish (SlateDB's RFC 0029
/// invariant: an id minted but not yet published is never below the GC cutoff). GC deletes an unreferenced SST only
/// when its id was minted more than <c>GcOptions.SstMinAge</c> ago (default 1 h); a writer or compactor never
/// publishes an SST minted more than <see cref="Deadline"/> ago. With clocks within <c>SstMinAge - Deadline</c> of
/// each other, nothing GC may delete is ever published. In process, pins give the same guarantee at any age.
/// </summary>
internal static class SstPublishing
{
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(15);

    /// <summary>True when <paramref name="id"/> is too old to publish (its upload took longer than the deadline).</summary>
    public static bool IsTooOld(SstId id, TimeProvider time) =>
        time.GetUtcNow().ToUnixTimeMilliseconds() - id.UnixMilliseconds > (long)Deadline.TotalMilliseconds;

    public static void ThrowIfTooOld(SstId id, TimeProvider time)
    {
        if (IsTooOld(id, time))
        {
            throw Errors.Unavailable(
                $"sst {id} was minted more than {Deadline.TotalMinutes:0} minutes ago and may already be collected as an orphan; it is not published (path={SstPaths.PathOf(id)})");
        }
    }
}
