using System.Text;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// What a database must hold, given what it acknowledged. One caller issues the writes, so the order they are recorded
/// in is their sequence order. While the database is open every read must see <see cref="Current"/>: every write
/// issued (a failed write ends the database's life, see below). After a reopen the database must hold the state after
/// some prefix of the writes issued since the previous reopen, a prefix that contains every write known to be durable:
/// acknowledged with <c>AwaitDurable</c>, or followed by a durable acknowledgement, a WAL or memtable flush, or a clean
/// close that succeeded (WAL objects are stored in id order and each acknowledgement covers everything before it).
/// Writes after that point, acknowledged to the memtable or failed, may or may not have survived; a failed write is
/// always the last one (the caller reopens after it, and checks the database refused more writes), so "may or may not"
/// stays a suffix and the candidates stay prefixes. States are <see cref="ModelState"/>s, read at a clock time: a
/// reopened database is compared at the time of the reopen, and the allowed state that matched (with its expiries, not
/// the bare rows) is what follows.
/// </summary>
public sealed class DurabilityModel
{
    private readonly List<Write> _writes = [];
    private ModelState _base = new();
    private int _durable;

    /// <summary>The state after every write issued: what reads must see while the database is open.</summary>
    public ModelState Current { get; private set; } = new();

    /// <summary>Writes issued since the last reopen.</summary>
    public int Issued => _writes.Count;

    /// <summary>Of <see cref="Issued"/>, how many lead the sequence and are certainly durable.</summary>
    public int Durable => _durable;

    /// <summary>Records a write about to be issued and applies it to <see cref="Current"/>; returns its number.</summary>
    public int Begin(string description, IReadOnlyList<ModelChange> changes)
    {
        _writes.Add(new Write(description, changes));
        Apply(Current, changes);
        return _writes.Count - 1;
    }

    public void Acknowledged(int write, bool durable)
    {
        _writes[write].Outcome = durable ? "acknowledged durable" : "acknowledged in memtable";
        if (durable)
        {
            _durable = Math.Max(_durable, write + 1);
        }
    }

    public void Failed(int write, Exception error) => _writes[write].Outcome = $"failed ({error.GetType().Name}: {First(error.Message, 160)})";

    /// <summary>A WAL flush, memtable flush or clean close succeeded: everything issued so far is durable.</summary>
    public void AllDurable() => _durable = _writes.Count;

    /// <summary>
    /// Checks a reopened database's whole state, scanned at <paramref name="now"/> (Unix ms); null when it is one of the
    /// allowed prefixes, otherwise what is wrong. Either way that becomes the base for what follows: the matching
    /// prefix's state, or (when none matched) the bare recovered rows.
    /// </summary>
    public string? Recovered(IReadOnlyList<(string Key, string Value)> state, long now = 0)
    {
        var recovered = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in state)
        {
            recovered[key] = value;
        }

        string? problem = null;
        var candidate = _base.Clone();
        for (var i = 0; i < _durable; i++)
        {
            Apply(candidate, _writes[i].Changes);
        }

        var best = (Prefix: _durable, Differences: Differences(candidate, recovered, now));
        for (var prefix = _durable; best.Differences.Count > 0 && prefix < _writes.Count; prefix++)
        {
            Apply(candidate, _writes[prefix].Changes);
            var differences = Differences(candidate, recovered, now);
            if (differences.Count < best.Differences.Count)
            {
                best = (prefix + 1, differences);
            }
        }

        if (best.Differences.Count > 0)
        {
            problem = Describe(best.Prefix, best.Differences, recovered, now);
        }

        _base = problem is null ? candidate : ModelState.Of(state);
        Current = _base.Clone();
        _writes.Clear();
        _durable = 0;
        return problem;
    }

    private string Describe(int prefix, List<string> differences, SortedDictionary<string, string> recovered, long now)
    {
        var text = new StringBuilder()
            .Append("the reopened database matches no allowed state: it must equal the state after the first N of the ")
            .Append(_writes.Count).Append(" writes since the last reopen, for N from ").Append(_durable).Append(" (every durable write) to ")
            .Append(_writes.Count).Append("; the closest, N=").Append(prefix).Append(", differs in ").Append(differences.Count).AppendLine(" keys:");
        var expected = _base.Clone();
        for (var i = 0; i < prefix; i++)
        {
            Apply(expected, _writes[i].Changes);
        }

        foreach (var key in differences.Take(8))
        {
            var touching = Enumerable.Range(0, _writes.Count).Where(i => _writes[i].Changes.Any(c => c.Touches(key))).TakeLast(4).ToList();
            text.Append("  ").Append(key).Append(": expected ").Append(Show(expected.Get(key, now)))
                .Append(", found ").Append(Show(recovered.GetValueOrDefault(key)))
                .Append(touching.Count == 0 ? "; no write since the last reopen touched it" : "; written by")
                .AppendLine();
            foreach (var i in touching)
            {
                text.Append("    write ").Append(i).Append(i < prefix ? " (in the prefix): " : " (after it): ").Append(_writes[i]).AppendLine();
            }
        }

        return text.ToString();
    }

    private static List<string> Differences(ModelState model, SortedDictionary<string, string> actual, long now)
    {
        var keys = new List<string>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in model.Rows(null, null, now))
        {
            expected.Add(key);
            if (!actual.TryGetValue(key, out var other) || other != value)
            {
                keys.Add(key);
            }
        }

        keys.AddRange(actual.Keys.Where(k => !expected.Contains(k)));
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    private static void Apply(ModelState state, IReadOnlyList<ModelChange> changes)
    {
        foreach (var change in changes)
        {
            state.Apply(change);
        }
    }

    private static string Show(string? value) => value is null ? "<absent>" : $"\"{First(value, 16)}\" ({value.Length} chars)";

    private static string First(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    private sealed class Write(string description, IReadOnlyList<ModelChange> changes)
    {
        public IReadOnlyList<ModelChange> Changes => changes;

        public string Outcome { get; set; } = "issued";

        public override string ToString() => $"{description}, {Outcome}";
    }
}
