namespace SlateSharp.Bench.Peers;

/// <summary>The engines the bench knows, by command-line name.</summary>
internal static class PeerEngines
{
    public const string SlateSharp = "slatesharp";

    /// <summary>
    /// Every engine, SlateSharp first (ratios are SlateSharp / peer). FASTER is not here: it is a hash index without
    /// ordered scans and acknowledges durability only through checkpoints or commit points, not per write, so four of
    /// the six workloads would not mean the same thing (docs/benchmarks.md).
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = [SlateSharp, "rocksdb", "zonetree", "sqlite"];

    public static async ValueTask<IBenchEngine> OpenAsync(string name, PeerOptions options) => name switch
    {
        SlateSharp => await SlateSharpPeer.OpenAsync(options),
        "rocksdb" => new RocksDbPeer(options),
        "zonetree" => new ZoneTreePeer(options),
        "sqlite" => new SqlitePeer(options),
        _ => throw new ArgumentException($"unknown engine '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };
}
