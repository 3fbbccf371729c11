namespace SlateSharp.Common;

/// <summary>
/// Named places inside the engine where a crash test may kill the process (docs/reliability.md). The engine only
/// announces that it reached a point; a test installs <see cref="Hook"/> (the crash child process does, selected by
/// an environment variable it reads) and decides whether to die there. With no hook installed a point costs one
/// null check. Points come in before/after pairs around each durable step, so a kill lands on both sides of it.
/// </summary>
internal static class CrashPoints
{
    public const string WalPutBefore = "wal.put.before";
    public const string WalPutAfter = "wal.put.after";
    public const string FencePutBefore = "fence.put.before";
    public const string FencePutAfter = "fence.put.after";
    public const string SstUploadBefore = "sst.upload.before";
    public const string SstUploadAfter = "sst.upload.after";
    public const string ManifestPutBefore = "manifest.put.before";
    public const string ManifestPutAfter = "manifest.put.after";
    public const string CloseBegin = "close.begin";
    public const string CloseFlushed = "close.flushed";
    public const string CompactionOutputsWritten = "compaction.outputs.written";
    public const string CompactionPublished = "compaction.published";

    /// <summary>Every point, for tests that pick one.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        WalPutBefore, WalPutAfter, FencePutBefore, FencePutAfter, SstUploadBefore, SstUploadAfter,
        ManifestPutBefore, ManifestPutAfter, CloseBegin, CloseFlushed, CompactionOutputsWritten, CompactionPublished,
    ];

    /// <summary>Called with the point's name each time the engine reaches it; null (the default) does nothing.</summary>
    public static Action<string>? Hook { get; set; }

    public static void Reached(string point) => Hook?.Invoke(point);
}
