using System.Collections.Concurrent;
using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp.Compaction;

/// <summary>
/// The readers one compaction job reads its inputs through. An L0 input spans most of the key space, so the split
/// samples it and every parallel range of the job reads part of it: it is opened once for the whole job and shared
/// (held until the job ends), instead of once by the split and once more by each range, each open a read and decode
/// of its index and filter (large-object-heap garbage, and several copies of one index alive at once). A sorted
/// run's SSTs are split among the ranges, so each is read by about one range and stays a pass reader
/// (<see cref="SstReaderCache.GetForPassAsync"/>) that lives only while that range reads it.
/// </summary>
internal sealed class JobReaders
{
    private readonly SstReaderCache _readers;
    private readonly HashSet<SstId> _shared;
    private readonly CancellationToken _jobCancellation;
    private readonly ConcurrentDictionary<SstId, Lazy<Task<SstReader>>> _opened = new();

    /// <summary>Readers for <paramref name="job"/>, whose shared opens end with <paramref name="jobCancellation"/>, not a range's.</summary>
    public JobReaders(SstReaderCache readers, CompactionJob job, CancellationToken jobCancellation)
    {
        _readers = readers;
        _jobCancellation = jobCancellation;
        _shared = job.Sources.Where(s => s.L0 is not null).Select(s => s.L0!.Id).ToHashSet();
    }

    /// <summary>The reader of input <paramref name="id"/>: the job's shared one for an L0 input, a pass reader otherwise.</summary>
    public ValueTask<SstReader> GetAsync(SstId id, CancellationToken cancellationToken)
    {
        if (!_shared.Contains(id))
        {
            return _readers.GetForPassAsync(id, cancellationToken);
        }

        var open = _opened.GetOrAdd(id, key => new Lazy<Task<SstReader>>(() => _readers.GetForPassAsync(key, _jobCancellation).AsTask())).Value;
        return open.IsCompletedSuccessfully ? new(open.Result) : new(open.WaitAsync(cancellationToken));
    }
}
