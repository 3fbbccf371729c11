using BenchmarkDotNet.Attributes;
using SlateSharp.Format;
using SlateSharp.Memtable;

namespace SlateSharp.Bench.Micro;

/// <summary>
/// The memtable's skip list against the obvious alternative, a <see cref="SortedSet{T}"/> under a lock (readers
/// would need the lock too): inserting 100,000 random 16-byte keys, and point lookups in a full table.
/// </summary>
[MemoryDiagnoser]
public class MemtableBenchmarks
{
    private const int Rows = 100_000;
    private readonly byte[] _value = new byte[100];
    private byte[][] _keys = [];
    private MemoryTable _full = null!;
    private SortedSet<RowEntry> _fullSet = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        _keys = Enumerable.Range(0, Rows).Select(_ =>
        {
            var key = new byte[16];
            random.NextBytes(key);
            return key;
        }).ToArray();
        _full = new MemoryTable(7);
        _fullSet = new SortedSet<RowEntry>(KeyComparer.Instance);
        for (var i = 0; i < Rows; i++)
        {
            _full.Insert(_keys[i], (ulong)i + 1, RowKind.Put, _value, null);
            _fullSet.Add(RowEntry.Put(_keys[i], _value, (ulong)i + 1));
        }
    }

    /// <summary>100,000 inserts into a fresh skip-list memtable.</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public long SkipListInsert()
    {
        var table = new MemoryTable(7);
        for (var i = 0; i < Rows; i++)
        {
            table.Insert(_keys[i], (ulong)i + 1, RowKind.Put, _value, null);
        }

        return table.SizeBytes;
    }

    /// <summary>100,000 inserts into a sorted set under a lock.</summary>
    [Benchmark(OperationsPerInvoke = Rows, Baseline = true)]
    public int LockedSortedSetInsert()
    {
        var set = new SortedSet<RowEntry>(KeyComparer.Instance);
        var gate = new object();
        for (var i = 0; i < Rows; i++)
        {
            lock (gate)
            {
                set.Add(RowEntry.Put(_keys[i], _value, (ulong)i + 1));
            }
        }

        return set.Count;
    }

    /// <summary>A point lookup (newest version at or below a snapshot) in a 100,000-row skip list.</summary>
    [Benchmark]
    public bool SkipListGet() => _full.Get(_keys[_next++ % Rows], ulong.MaxValue) is not null;

    /// <summary>The same lookup in the sorted set (a view between (key, max) and (key, 0)).</summary>
    [Benchmark]
    public bool SortedSetGet()
    {
        var key = _keys[_next++ % Rows];
        return _fullSet.GetViewBetween(RowEntry.Put(key, default, ulong.MaxValue), RowEntry.Put(key, default, 0)).Count > 0;
    }
}
