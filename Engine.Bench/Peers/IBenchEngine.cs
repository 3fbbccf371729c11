namespace SlateSharp.Bench.Peers;

/// <summary>
/// One embedded engine as the side-by-side benchmark drives it. Every engine gets the same calls with the same bytes;
/// what "acknowledged" means is fixed at open by <see cref="PeerOptions.Durable"/> (docs/benchmarks.md lists it per
/// engine). Engines with a synchronous API return completed tasks, so awaiting them costs nothing measurable.
/// Contract: calls may come from many threads at once; an engine that cannot take that serialises them itself.
/// </summary>
internal interface IBenchEngine : IAsyncDisposable
{
    /// <summary>The name used on the command line and in reports.</summary>
    string Name { get; }

    ValueTask PutAsync(byte[] key, byte[] value);

    /// <summary>Writes the rows atomically where the engine can (one batch, one transaction).</summary>
    ValueTask PutBatchAsync(IReadOnlyList<KeyValuePair<byte[], byte[]>> rows);

    ValueTask<byte[]?> GetAsync(byte[] key);

    /// <summary>Reads up to <paramref name="rows"/> rows in key order from the first key at or after <paramref name="start"/>; returns how many it read.</summary>
    ValueTask<int> ScanAsync(byte[] start, int rows);

    /// <summary>Makes everything written so far durable and moves it out of memory into the engine's files (memtables to SSTs, WAL checkpointed).</summary>
    ValueTask FlushToFilesAsync();

    /// <summary>Engine-specific figures worth printing after a run of <paramref name="measuredOps"/> operations (e.g. WAL objects per put), or null.</summary>
    string? Describe(long measuredOps);
}
