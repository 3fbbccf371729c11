namespace SlateSharp.Tests.Crash;

/// <summary>
/// Decides whether the state a reopened database shows after a kill is one the acknowledgements allow.
/// </summary>
/// <remarks>
/// The rules, for a baseline (what the previous check read back: every key's value before this cycle) and this
/// cycle's <see cref="CrashHistory"/>:
/// <list type="number">
/// <item>Every value read back is one a write produced: the baseline value, or the exact bytes of a write logged in
/// this cycle for that key. Anything else (garbage, a torn value, an old value that was overwritten or deleted) fails.</item>
/// <item>The durable frontier is the latest start line of an acknowledged durable write, WAL flush, memtable flush or
/// close, or of a write whose value was read back. Every write acknowledged before the frontier is required: the WAL
/// is uploaded in order and memtables are flushed in order, so a durable acknowledgement (or a surviving write)
/// proves every write that came before it, whatever the writer and however it was acknowledged.</item>
/// <item>Each key shows its latest required write (its value, or absent for a delete; the baseline when no write is
/// required) or a later write that was started: started writes may or may not have landed.</item>
/// <item>Each writer's surviving writes form a prefix of its calls (the engine recovers a prefix of the sequence
/// numbers, and a writer's calls come one after another): some cut at or after its last required write explains every
/// one of its keys. This is what makes a batch atomic, and a lost write under a surviving later one a failure.</item>
/// </list>
/// </remarks>
internal static class KillChecker
{
    private const int MaxReported = 12;

    public static KillCheckResult Check(
        int cycle, CrashHistory history, IReadOnlyDictionary<string, byte[]> baseline, IReadOnlyDictionary<string, byte[]> recovered)
    {
        var violations = new List<string>();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (writer, ops) in history.ByWriter)
        {
            foreach (var write in ops.SelectMany(o => o.Writes))
            {
                touched.Add(CrashValues.Key(writer, write.Key));
            }
        }

        var keys = new SortedSet<string>(baseline.Keys.Concat(recovered.Keys).Concat(touched), StringComparer.Ordinal);

        // 1. Where each value came from.
        var sources = new Dictionary<string, Source>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!CrashValues.TryParseKey(key, out var writer, out var index))
            {
                violations.Add($"key {key}: no writer of this test writes such a key");
                continue;
            }

            var source = SourceOf(cycle, history, key, writer, index, baseline.GetValueOrDefault(key), recovered.GetValueOrDefault(key), out var problem);
            if (problem is not null)
            {
                violations.Add(problem + Environment.NewLine + string.Join(Environment.NewLine, history.LinesAbout(writer, index)));
                continue;
            }

            sources[key] = source;
        }

        // 2. The durable frontier.
        var frontier = -1;
        var observed = sources.Values.Where(s => s.Kind == SourceKind.Op).Select(s => (s.Writer, s.Op)).ToHashSet();
        foreach (var op in history.Ops)
        {
            if (op.ProvesDurability || observed.Contains((op.Writer, op.Op)))
            {
                frontier = Math.Max(frontier, op.Start);
            }
        }

        var required = 0;
        foreach (var (writer, ops) in history.ByWriter)
        {
            var last = -1;
            foreach (var op in ops)
            {
                if (AckLog.IsWrite(op.Kind) && op.Ack is { } ack && (op.AwaitDurable || ack < frontier))
                {
                    last = op.Op;
                }
            }

            required += ops.Count(o => AckLog.IsWrite(o.Kind) && o.Op <= last);
            CheckKeys(writer, ops, last, history, baseline, sources, violations);
            CheckPrefix(writer, ops, last, baseline, sources, violations);
        }

        // Keys no write of this cycle touched keep their baseline.
        foreach (var (key, source) in sources)
        {
            if (!touched.Contains(key) && source.Kind != SourceKind.Baseline && !(source.Kind == SourceKind.Absent && !baseline.ContainsKey(key)))
            {
                violations.Add($"key {key}: nothing wrote it in this cycle, yet it is {Describe(source)} instead of its baseline {DescribeBaseline(baseline, key)} (lost)");
            }
        }

        return new KillCheckResult(violations, history.Acknowledged, required, frontier);
    }

    private static Source SourceOf(int cycle, CrashHistory history, string key, int writer, int index, byte[]? before, byte[]? value, out string? problem)
    {
        problem = null;
        if (value is null)
        {
            return new Source(SourceKind.Absent, writer, -1);
        }

        if (before is not null && value.AsSpan().SequenceEqual(before))
        {
            return new Source(SourceKind.Baseline, writer, -1);
        }

        if (!CrashValues.TryParse(value, out var name))
        {
            problem = $"key {key}: holds {value.Length} bytes no write produced: '{Printable(value)}'";
            return default;
        }

        if (!name.Expected().AsSpan().SequenceEqual(value))
        {
            problem = $"key {key}: holds a damaged copy of the value of {name}: '{Printable(value)}'";
            return default;
        }

        if (name.Cycle != cycle || name.Writer != writer || name.Key != index)
        {
            problem = $"key {key}: holds the value of {name}, which is neither its baseline {DescribeBaseline(before)} nor a write of this cycle (cycle {cycle}): an overwritten or deleted value came back";
            return default;
        }

        var op = history.ByWriter.TryGetValue(writer, out var ops) && name.Op < ops.Count ? ops[name.Op] : null;
        if (op is null || !op.Writes.Contains(new KeyWrite(index, name.Padding)))
        {
            problem = $"key {key}: holds the value of {name}, but the ack log shows no such write (it was never started)";
            return default;
        }

        return new Source(SourceKind.Op, writer, name.Op);
    }

    /// <summary>Rule 3: each key shows its latest required write or a later started one.</summary>
    private static void CheckKeys(
        int writer, IReadOnlyList<LoggedOp> ops, int lastRequired, CrashHistory history, IReadOnlyDictionary<string, byte[]> baseline,
        Dictionary<string, Source> sources, List<string> violations)
    {
        foreach (var (index, writes) in WritesByKey(ops))
        {
            var key = CrashValues.Key(writer, index);
            if (!sources.TryGetValue(key, out var source))
            {
                continue;
            }

            var requiredAt = writes.FindLastIndex(w => w.Op <= lastRequired);
            var later = writes.Skip(requiredAt + 1).ToList();
            var allowed = source.Kind switch
            {
                SourceKind.Baseline => requiredAt < 0,
                SourceKind.Op => requiredAt >= 0 ? source.Op >= writes[requiredAt].Op : later.Any(w => w.Op == source.Op),
                _ => (requiredAt < 0 ? !baseline.ContainsKey(key) : writes[requiredAt].Write.IsDelete) || later.Any(w => w.Write.IsDelete),
            };
            if (!allowed && violations.Count < MaxReported)
            {
                var expected = requiredAt < 0
                    ? $"its baseline {DescribeBaseline(baseline, key)}"
                    : $"the write of op {writes[requiredAt].Op} ({(writes[requiredAt].Write.IsDelete ? "a delete" : "a put")}) or a later started one";
                violations.Add(
                    $"key {key}: is {Describe(source)}, but acknowledgements require {expected} (lost)" + Environment.NewLine +
                    string.Join(Environment.NewLine, history.LinesAbout(writer, index)));
            }
        }
    }

    /// <summary>Rule 4: some cut at or after the last required op explains every key of the writer.</summary>
    private static void CheckPrefix(
        int writer, IReadOnlyList<LoggedOp> ops, int lastRequired, IReadOnlyDictionary<string, byte[]> baseline,
        Dictionary<string, Source> sources, List<string> violations)
    {
        // explains[c + 1] counts the keys whose recovered state is what a cut after op c would leave (c = -1: none).
        var explains = new int[ops.Count + 2];
        var keys = 0;
        foreach (var (index, writes) in WritesByKey(ops))
        {
            var key = CrashValues.Key(writer, index);
            if (!sources.TryGetValue(key, out var source))
            {
                return;
            }

            keys++;
            for (var i = -1; i < writes.Count; i++)
            {
                var fits = i < 0
                    ? source.Kind == SourceKind.Baseline || (source.Kind == SourceKind.Absent && !baseline.ContainsKey(key))
                    : source.Kind == SourceKind.Op ? source.Op == writes[i].Op : source.Kind == SourceKind.Absent && writes[i].Write.IsDelete;
                if (fits)
                {
                    var from = i < 0 ? -1 : writes[i].Op;
                    var to = i + 1 < writes.Count ? writes[i + 1].Op - 1 : ops.Count - 1;
                    explains[from + 1]++;
                    explains[to + 2]--;
                }
            }
        }

        var count = 0;
        for (var cut = -1; cut < ops.Count; cut++)
        {
            count += explains[cut + 1];
            if (cut >= lastRequired && count == keys)
            {
                return;
            }
        }

        var torn = TornBatches(writer, ops, sources).ToList();
        violations.Add(
            $"writer {writer}: no prefix of its calls at or after its last required op {lastRequired} explains what its keys show " +
            "(a write survived while an earlier one of the same writer was lost" + (torn.Count > 0 ? ", or a batch was torn" : string.Empty) + ")" +
            Environment.NewLine + string.Join(Environment.NewLine, torn.Take(MaxReported)) +
            Environment.NewLine + "  keys: " + string.Join("; ", sources.Where(s => s.Value.Writer == writer && s.Value.Kind != SourceKind.Baseline)
                .Take(40).Select(s => $"{s.Key}={Describe(s.Value)}")));
    }

    private static IEnumerable<string> TornBatches(int writer, IReadOnlyList<LoggedOp> ops, Dictionary<string, Source> sources)
    {
        foreach (var batch in ops.Where(o => o.Kind == OpKind.Batch))
        {
            var shown = batch.Writes.Where(w => !w.IsDelete && sources.GetValueOrDefault(CrashValues.Key(writer, w.Key)) is { Kind: SourceKind.Op } s && s.Op == batch.Op).ToList();
            if (shown.Count == 0)
            {
                continue;
            }

            foreach (var write in batch.Writes)
            {
                var source = sources.GetValueOrDefault(CrashValues.Key(writer, write.Key));
                var older = source.Kind == SourceKind.Baseline || (source.Kind == SourceKind.Op && source.Op < batch.Op) || (source.Kind == SourceKind.Absent && !write.IsDelete);
                if (older)
                {
                    yield return $"  batch op {batch.Op}: key {CrashValues.Key(writer, shown[0].Key)} shows it, key {CrashValues.Key(writer, write.Key)} is {Describe(source)}";
                }
            }
        }
    }

    private static IEnumerable<(int Key, List<(int Op, KeyWrite Write)> Writes)> WritesByKey(IReadOnlyList<LoggedOp> ops) =>
        ops.SelectMany(o => o.Writes.Select(w => (o.Op, Write: w)))
            .GroupBy(x => x.Write.Key)
            .Select(g => (g.Key, g.OrderBy(x => x.Op).ToList()));

    private static string Describe(Source source) => source.Kind switch
    {
        SourceKind.Absent => "absent",
        SourceKind.Baseline => "its baseline value",
        _ => $"the value of op {source.Op}",
    };

    private static string DescribeBaseline(IReadOnlyDictionary<string, byte[]> baseline, string key) => DescribeBaseline(baseline.GetValueOrDefault(key));

    private static string DescribeBaseline(byte[]? value) =>
        value is null ? "(absent)" : CrashValues.TryParse(value, out var name) ? $"(the value of {name})" : "(a value)";

    private static string Printable(byte[] value) =>
        new([.. value.Take(48).Select(b => b is >= 32 and < 127 ? (char)b : '.')]);

    private enum SourceKind
    {
        Absent,
        Baseline,
        Op,
    }

    private readonly record struct Source(SourceKind Kind, int Writer, int Op);
}

/// <summary>What a check found, and how much it had to check.</summary>
internal sealed record KillCheckResult(IReadOnlyList<string> Violations, int Acknowledged, int Required, int DurableFrontier)
{
    public bool Passed => Violations.Count == 0;
}
