using System.Globalization;
using System.Text;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// The crash child's record of what it asked the database and what the database answered: one append-only file,
/// one line per event, each line handed to the kernel in one write(2) before the call it announces ("S", start) or
/// after the call it reports has returned ("A", acknowledged; "E", failed). No fsync: the parent reads the file after
/// the child died, and a killed process leaves the page cache behind. One lock orders the lines, so the order of
/// lines is the real-time order of the events.
/// </summary>
/// <remarks>
/// Lines: <c>O</c> (the database is open); <c>S writer op kind mode key:padding...</c> with kind put, del, batch, wal
/// (WAL flush), mem (memtable flush) or close, mode d (awaits durability), m (memtable acknowledgement) or -, and
/// padding -1 for a delete; <c>A writer op</c>; <c>E writer op kind: message</c> (kind: the error kind and close reason, e.g. Closed/Fenced); <c>K point n</c> (the child kills itself at
/// the n-th time the engine reaches the point).
/// </remarks>
internal sealed class AckLog : IDisposable
{
    private readonly FileStream _file;
    private readonly Lock _lock = new();

    public AckLog(string path) =>
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);

    public void Opened() => Write("O");

    public void Start(int writer, int op, OpKind kind, bool awaitDurable, IReadOnlyList<KeyWrite> writes)
    {
        var line = new StringBuilder(32 + (writes.Count * 12));
        line.Append(CultureInfo.InvariantCulture, $"S {writer} {op} {KindName(kind)} {(IsWrite(kind) ? (awaitDurable ? "d" : "m") : "-")}");
        foreach (var write in writes)
        {
            line.Append(CultureInfo.InvariantCulture, $" {write.Key}:{write.Padding}");
        }

        Write(line.ToString());
    }

    public void Acknowledged(int writer, int op) => Write(string.Create(CultureInfo.InvariantCulture, $"A {writer} {op}"));

    public void Failed(int writer, int op, Exception error)
    {
        var kind = error is SlateSharpException e ? $"{e.Kind}{(e.CloseReason is { } reason ? "/" + reason : string.Empty)}" : error.GetType().Name;
        Write(string.Create(CultureInfo.InvariantCulture, $"E {writer} {op} {kind}: {error.Message.ReplaceLineEndings(" ")}"));
    }

    public void Crashing(string point, int count) => Write(string.Create(CultureInfo.InvariantCulture, $"K {point} {count}"));

    public void Dispose() => _file.Dispose();

    internal static string KindName(OpKind kind) => kind switch
    {
        OpKind.Put => "put",
        OpKind.Delete => "del",
        OpKind.Batch => "batch",
        OpKind.FlushWal => "wal",
        OpKind.FlushMemtable => "mem",
        _ => "close",
    };

    internal static bool IsWrite(OpKind kind) => kind is OpKind.Put or OpKind.Delete or OpKind.Batch;

    private void Write(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_lock)
        {
            _file.Write(bytes);
        }
    }
}

internal enum OpKind
{
    Put,
    Delete,
    Batch,
    FlushWal,
    FlushMemtable,
    Close,
}

/// <summary>One key a write sets (padding = the value's padding length) or deletes (padding -1).</summary>
internal readonly record struct KeyWrite(int Key, int Padding)
{
    public bool IsDelete => Padding < 0;
}
