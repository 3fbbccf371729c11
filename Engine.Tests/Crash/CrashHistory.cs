using System.Globalization;
using System.Text;

namespace SlateSharp.Tests.Crash;

/// <summary>One call the crash child made, as its <see cref="AckLog"/> tells it.</summary>
internal sealed class LoggedOp
{
    public required int Writer { get; init; }

    /// <summary>The writer's operation number: 0, 1, 2... in the order the writer made its calls, one at a time.</summary>
    public required int Op { get; init; }

    public required OpKind Kind { get; init; }

    public required bool AwaitDurable { get; init; }

    public required IReadOnlyList<KeyWrite> Writes { get; init; }

    /// <summary>Line number of the start line.</summary>
    public required int Start { get; init; }

    /// <summary>Line number of the acknowledgement, or null when the call never returned successfully.</summary>
    public int? Ack { get; set; }

    /// <summary>Line number of the failure, or null.</summary>
    public int? Failed { get; set; }

    public string? Error { get; set; }

    /// <summary>
    /// True when its return proves that everything acknowledged before it started is durable: an acknowledged durable
    /// write (the WAL is uploaded in order), WAL flush, memtable flush or close.
    /// </summary>
    public bool ProvesDurability => Ack is not null && (Kind is OpKind.FlushWal or OpKind.FlushMemtable or OpKind.Close || (AwaitDurable && AckLog.IsWrite(Kind)));

    public override string ToString() =>
        $"writer {Writer} op {Op} {AckLog.KindName(Kind)}{(AckLog.IsWrite(Kind) ? (AwaitDurable ? " durable" : " memtable") : string.Empty)}" +
        $" [{string.Join(' ', Writes.Select(w => w.IsDelete ? $"del {w.Key}" : $"put {w.Key}"))}]" +
        $" started line {Start}, {(Ack is { } ack ? $"acknowledged line {ack}" : Error is { } error ? "failed: " + error : "no answer")}";
}

/// <summary>Everything one crash child logged, parsed; a torn last line (the kill came mid-write) is ignored.</summary>
internal sealed class CrashHistory
{
    private CrashHistory(string path, IReadOnlyList<string> lines, IReadOnlyList<LoggedOp> ops, bool opened, string? crashPoint)
    {
        Path = path;
        Lines = lines;
        Ops = ops;
        Opened = opened;
        CrashPoint = crashPoint;
        ByWriter = ops.Where(o => o.Writer >= 0).GroupBy(o => o.Writer).ToDictionary(g => g.Key, g => (IReadOnlyList<LoggedOp>)[.. g.OrderBy(o => o.Op)]);
    }

    /// <summary>The ack log file.</summary>
    public string Path { get; }

    public IReadOnlyList<string> Lines { get; }

    public IReadOnlyList<LoggedOp> Ops { get; }

    /// <summary>Each writer's operations in operation order.</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<LoggedOp>> ByWriter { get; }

    public bool Opened { get; }

    /// <summary>"point n" when the child killed itself at a crash point.</summary>
    public string? CrashPoint { get; }

    public int Acknowledged => Ops.Count(o => o.Ack is not null);

    public static CrashHistory Read(string path)
    {
        var text = File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : string.Empty;
        var end = text.LastIndexOf('\n');
        var lines = end < 0 ? [] : text[..end].Split('\n');
        var ops = new List<LoggedOp>();
        var open = new Dictionary<(int, int), LoggedOp>();
        var opened = false;
        string? crash = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            switch (parts[0])
            {
                case "O":
                    opened = true;
                    break;
                case "K":
                    crash = parts[1] + " " + parts[2];
                    break;
                case "S":
                    var op = new LoggedOp
                    {
                        Writer = Int(parts[1]),
                        Op = Int(parts[2]),
                        Kind = Kind(parts[3]),
                        AwaitDurable = parts[4] == "d",
                        Writes = [.. parts.Skip(5).Select(Write)],
                        Start = i,
                    };
                    if (!open.TryAdd((op.Writer, op.Op), op))
                    {
                        throw new InvalidDataException($"ack log line {i}: operation started twice: {lines[i]}");
                    }

                    ops.Add(op);
                    break;
                case "A":
                    Find(parts, i).Ack = i;
                    break;
                case "E":
                    var failed = Find(parts, i);
                    failed.Failed = i;
                    failed.Error = string.Join(' ', parts.Skip(3));
                    break;
                default:
                    throw new InvalidDataException($"ack log line {i} is not an ack log line: {lines[i]}");
            }
        }

        foreach (var (writer, writerOps) in ops.Where(o => o.Writer >= 0).GroupBy(o => o.Writer).Select(g => (g.Key, g.OrderBy(o => o.Op).ToList())))
        {
            for (var i = 0; i < writerOps.Count; i++)
            {
                // One call at a time per writer: op i+1 starts after op i returned.
                var previous = i > 0 ? writerOps[i - 1] : null;
                if (writerOps[i].Op != i || (previous is not null && (previous.Ack ?? previous.Failed ?? int.MaxValue) > writerOps[i].Start))
                {
                    throw new InvalidDataException($"ack log: writer {writer} did not make its calls one at a time, numbered 0, 1, 2... (op {writerOps[i].Op} at position {i})");
                }
            }
        }

        return new CrashHistory(path, lines, ops, opened, crash);

        LoggedOp Find(string[] parts, int line) =>
            open.TryGetValue((Int(parts[1]), Int(parts[2])), out var op) ? op : throw new InvalidDataException($"ack log line {line}: answer without a start: {lines[line]}");
    }

    /// <summary>The log lines about <paramref name="writer"/>'s key <paramref name="key"/> (starts and answers), with line numbers.</summary>
    public IEnumerable<string> LinesAbout(int writer, int key)
    {
        if (!ByWriter.TryGetValue(writer, out var ops))
        {
            yield break;
        }

        foreach (var op in ops.Where(o => o.Writes.Any(w => w.Key == key)))
        {
            yield return $"  {op.Start,6}: {Lines[op.Start]}";
            if ((op.Ack ?? op.Failed) is { } answer)
            {
                yield return $"  {answer,6}: {Lines[answer]}";
            }
        }
    }

    private static int Int(string text) => int.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static OpKind Kind(string text) => text switch
    {
        "put" => OpKind.Put,
        "del" => OpKind.Delete,
        "batch" => OpKind.Batch,
        "wal" => OpKind.FlushWal,
        "mem" => OpKind.FlushMemtable,
        "close" => OpKind.Close,
        _ => throw new InvalidDataException($"unknown operation kind in the ack log: {text}"),
    };

    private static KeyWrite Write(string text)
    {
        var colon = text.IndexOf(':');
        return new KeyWrite(Int(text[..colon]), Int(text[(colon + 1)..]));
    }
}
