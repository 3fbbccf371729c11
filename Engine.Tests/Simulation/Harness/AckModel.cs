using System.Text;

namespace SlateSharp.Simulation;

/// <summary>
/// What the users of the simulated databases were told. Each write is recorded when it is issued and when its call
/// returns (acknowledged) or throws (ambiguous: it may or may not have happened). A write must survive when its
/// acknowledgement promised durability: it awaited durability, or a WAL flush, memtable flush or close of the same
/// writer that started after the acknowledgement returned successfully. Every key belongs to one user task, which
/// issues its writes one at a time, so each key's writes are totally ordered and the check at the end is exact:
/// the value read must be that of the last write that must survive, or of a later one (which may have landed).
/// </summary>
internal sealed class AckModel(SimulationLog log)
{
    private readonly Dictionary<string, List<WriteRecord>> _byKey = new(StringComparer.Ordinal);
    private readonly List<WriteRecord> _writes = [];
    private readonly List<(string Writer, long StartedAt, string What)> _flushes = [];
    private long _now;

    public int Acknowledged => _writes.Count(w => w.AckedAt is not null);

    public int Required => _writes.Count(IsRequired);

    public IEnumerable<string> Keys => _byKey.Keys;

    /// <summary>The id the next issued write gets (values embed it, so they are unique).</summary>
    public int NextWriteId => _writes.Count;

    /// <summary>Logical time: one tick per event, in the order Coyote ran them.</summary>
    public long Now() => ++_now;

    public WriteRecord Issue(string writer, string actor, bool durable, IReadOnlyList<(string Key, string? Value)> rows)
    {
        var record = new WriteRecord(_writes.Count, writer, actor, durable, rows, Now());
        _writes.Add(record);
        foreach (var (key, _) in rows)
        {
            if (!_byKey.TryGetValue(key, out var list))
            {
                _byKey[key] = list = [];
            }

            list.Add(record);
        }

        return record;
    }

    public void Acked(WriteRecord record)
    {
        record.AckedAt = Now();
        log.Add($"   ack w{record.Id} by {record.Actor} on {record.Writer} ({(record.Durable ? "durable" : "memtable")}): {record.Describe()}");
    }

    public void Failed(WriteRecord record, Exception error)
    {
        record.Error = error;
        log.Add($"   fail w{record.Id} by {record.Actor} on {record.Writer}: {error.GetType().Name}: {error.Message}");
    }

    /// <summary>A flush or close of <paramref name="writer"/> that started at <paramref name="startedAt"/> returned successfully.</summary>
    public void FlushSucceeded(string writer, long startedAt, string what)
    {
        _flushes.Add((writer, startedAt, what));
        log.Add($"   {what} of {writer} (started at t={startedAt}) succeeded: every earlier memtable ack on {writer} must survive");
    }

    public bool IsRequired(WriteRecord w) =>
        w.AckedAt is { } acked && (w.Durable || _flushes.Exists(f => f.Writer == w.Writer && f.StartedAt > acked));

    /// <summary>The values a read of <paramref name="key"/> may return now that every write has finished; null stands for absent.</summary>
    public (List<string?> Allowed, WriteRecord? MustSurvive) AllowedAfterReopen(string key)
    {
        var writes = _byKey[key];
        var last = writes.FindLastIndex(IsRequired);
        var allowed = new List<string?>();
        if (last < 0)
        {
            allowed.Add(null);
        }

        for (var i = Math.Max(last, 0); i < writes.Count; i++)
        {
            allowed.Add(writes[i].ValueOf(key));
        }

        return (allowed, last < 0 ? null : writes[last]);
    }

    /// <summary>What a read of <paramref name="key"/> through the live writer may return: its last acknowledged value or a later one.</summary>
    public List<string?> AllowedWhileOpen(string key)
    {
        var writes = _byKey.TryGetValue(key, out var list) ? list : [];
        var last = writes.FindLastIndex(w => w.AckedAt is not null);
        var allowed = new List<string?>();
        if (last < 0)
        {
            allowed.Add(null);
        }

        for (var i = Math.Max(last, 0); i < writes.Count; i++)
        {
            allowed.Add(writes[i].ValueOf(key));
        }

        return allowed;
    }

    /// <summary>Index of <paramref name="value"/> among the writes of <paramref name="key"/> (values are unique; -1 for absent or a delete).</summary>
    public int IndexOfValue(string key, string? value) =>
        value is null ? -1 : _byKey[key].FindIndex(w => w.ValueOf(key) == value);

    public IReadOnlyList<WriteRecord> Writes => _writes;

    public IReadOnlyList<WriteRecord> WritesOf(string key) => _byKey[key];
}

/// <summary>One write call: a put, a delete or a batch (several keys, applied atomically).</summary>
internal sealed class WriteRecord(int id, string writer, string actor, bool durable, IReadOnlyList<(string Key, string? Value)> rows, long issuedAt)
{
    public int Id { get; } = id;

    public string Writer { get; } = writer;

    public string Actor { get; } = actor;

    public bool Durable { get; } = durable;

    public IReadOnlyList<(string Key, string? Value)> Rows { get; } = rows;

    public long IssuedAt { get; } = issuedAt;

    public long? AckedAt { get; set; }

    public Exception? Error { get; set; }

    public string? ValueOf(string key) => Rows.First(r => r.Key == key).Value;

    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var (key, value) in Rows)
        {
            text.Append(text.Length == 0 ? "" : ", ").Append(value is null ? $"delete {key}" : $"{key}={Short(value)}");
        }

        return text.ToString();
    }

    public static string Short(string? value) => value is null ? "(absent)" : value.Length > 12 ? value[..12] : value;
}
