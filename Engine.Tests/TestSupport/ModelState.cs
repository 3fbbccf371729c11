using System.Buffers.Binary;
using System.Text;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A database's contents as the model holds them: for each key the versions a read folds, oldest first — at most one
/// put (perhaps with an expiry) and the merge operands written after it. Reads are at a clock time in Unix
/// milliseconds and follow the engine's rule (<c>ReadPath.IsLive</c>): a version is live while its expiry is after
/// now; an expired put is absent and shadows everything older. Values are Latin-1 strings, so any byte string (a
/// counter) is one char per byte.
/// </summary>
public sealed class ModelState
{
    private readonly SortedDictionary<string, ModelChange[]> _keys;

    public ModelState()
        : this(new SortedDictionary<string, ModelChange[]>(StringComparer.Ordinal))
    {
    }

    private ModelState(SortedDictionary<string, ModelChange[]> keys) => _keys = keys;

    /// <summary>Plain rows without expiry, as a scan returned them.</summary>
    public static ModelState Of(IEnumerable<(string Key, string Value)> rows)
    {
        var state = new ModelState();
        foreach (var (key, value) in rows)
        {
            state.Apply(new ModelChange.Put(key, value));
        }

        return state;
    }

    /// <summary>An independent copy (the versions are immutable arrays, shared).</summary>
    public ModelState Clone() => new(new SortedDictionary<string, ModelChange[]>(_keys, StringComparer.Ordinal));

    /// <summary>The one place a write takes effect.</summary>
    public void Apply(ModelChange change)
    {
        switch (change)
        {
            case ModelChange.Put put:
                _keys[put.Key] = [put];
                break;
            case ModelChange.Delete delete:
                _keys.Remove(delete.Key);
                break;
            case ModelChange.DeleteRange range:
                foreach (var key in _keys.Keys.Where(range.Touches).ToList())
                {
                    _keys.Remove(key);
                }

                break;
            case ModelChange.Merge merge:
                _keys[merge.Key] = _keys.TryGetValue(merge.Key, out var versions) ? [.. versions, merge] : [merge];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(change), change, "a write kind the model does not know");
        }
    }

    /// <summary>What a get of <paramref name="key"/> at <paramref name="now"/> returns; null when absent.</summary>
    public string? Get(string key, long now) => _keys.TryGetValue(key, out var versions) ? Fold(versions, now) : null;

    /// <summary>What a scan of [<paramref name="start"/>, <paramref name="end"/>) at <paramref name="now"/> returns; null bounds are open.</summary>
    public IEnumerable<(string Key, string Value)> Rows(string? start, string? end, long now)
    {
        foreach (var (key, versions) in _keys)
        {
            if ((start is null || string.CompareOrdinal(key, start) >= 0) && (end is null || string.CompareOrdinal(key, end) < 0) && Fold(versions, now) is { } value)
            {
                yield return (key, value);
            }
        }
    }

    /// <summary>True when <paramref name="key"/> holds merge operands (a read of it folds them).</summary>
    public bool HasOperands(string key) => _keys.TryGetValue(key, out var versions) && versions.Any(v => v is ModelChange.Merge);

    /// <summary>The versions held for <paramref name="key"/>, oldest first, for a report.</summary>
    public string VersionsOf(string key) => _keys.TryGetValue(key, out var versions) ? string.Join(", ", versions.Select(v => v.ToString())) : "none";

    /// <summary>The earliest expiry after <paramref name="now"/> of any version, for a clock that wants to land on one exactly.</summary>
    public long? NextExpiryAfter(long now) =>
        _keys.Values.SelectMany(v => v).Select(ExpiryOf).Where(e => e > now).Min();

    /// <summary>An 8-byte little-endian counter as a model value.</summary>
    public static string Counter(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return Encoding.Latin1.GetString(bytes);
    }

    private static long? ExpiryOf(ModelChange change) => change switch
    {
        ModelChange.Put put => put.ExpireAt,
        ModelChange.Merge merge => merge.ExpireAt,
        _ => null,
    };

    private static bool Live(long? expireAt, long now) => expireAt is not { } at || at > now;

    private static string? Fold(ModelChange[] versions, long now)
    {
        string? value = null;
        foreach (var version in versions)
        {
            value = version switch
            {
                ModelChange.Put put => Live(put.ExpireAt, now) ? put.Value : null,
                ModelChange.Merge merge when Live(merge.ExpireAt, now) => Add(value, merge.Operand),
                _ => value,
            };
        }

        return value;
    }

    private static string Add(string? value, string operand)
    {
        if (value is null)
        {
            return operand;
        }

        if (value.Length != 8 || operand.Length != 8)
        {
            throw new InvalidOperationException($"the counter merge needs 8-byte values and operands, not {value.Length} and {operand.Length} bytes");
        }

        return Counter(ReadCounter(value) + ReadCounter(operand));
    }

    private static ulong ReadCounter(string value) => BinaryPrimitives.ReadUInt64LittleEndian(Encoding.Latin1.GetBytes(value));
}
