using System.Text;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Db;

/// <summary>
/// Seeded random puts, deletes, merges and batches with gets and scans checked against a dictionary model, across
/// memtable freezes, L0 flushes, compaction (a <see cref="DbCompactor"/> with the operator, run to completion) and
/// close/reopen (WAL replay); snapshots taken along the way must read what the model read then, after compaction too.
/// </summary>
public sealed class MergeModelTests
{
    private const int Keys = 24;

    [TestCase("counter", 1311)]
    [TestCase("append", 1312)]
    [TestCase("append-declining", 1313)]
    public async Task Reads_match_the_model_through_flushes_compaction_and_reopens(string kind, int defaultSeed)
    {
        var seed = TestSeeds.Get(defaultSeed);
        var random = new Random(seed);
        IMergeOperator mergeOperator = kind switch
        {
            "counter" => new CounterMergeOperator(),
            "append" => new AppendMergeOperator(),
            _ => new AppendMergeOperator(partialLimit: 0),
        };

        // The model: the value of each key as text (a counter's as its number); missing = absent.
        string Apply(string? existing, string operand) => kind == "counter"
            ? (long.Parse(existing ?? "0") + long.Parse(operand)).ToString()
            : existing is null ? operand : existing + "," + operand;
        byte[] Encode(string text) => kind == "counter" ? CounterMergeOperator.Encode(long.Parse(text)) : Encoding.UTF8.GetBytes(text);
        string Decode(ReadOnlySpan<byte> bytes) => kind == "counter" ? CounterMergeOperator.Decode(bytes).ToString() : Encoding.UTF8.GetString(bytes);

        var model = new Dictionary<string, string>();
        var store = new InMemoryObjectStore();
        var options = DbModelRun.SmallOptions(seed, compaction: false);
        options = new DbOptions
        {
            FlushInterval = options.FlushInterval, MemtableSizeBytes = 4 << 10, MaxUnflushedBytes = options.MaxUnflushedBytes,
            WalObjectMaxBytes = options.WalObjectMaxBytes, BlockSizeBytes = options.BlockSizeBytes, L0MaxSsts = 100_000,
            Compaction = new CompactionOptions { Enabled = false }, RandomSeed = seed, MergeOperator = mergeOperator,
        };
        var compactorOptions = new DbOptions
        {
            MergeOperator = mergeOperator, RandomSeed = seed, BlockSizeBytes = 512,
            Compaction = new CompactionOptions { MinSourcesPerJob = 2, TargetSstBytes = 8 << 10, MaxSubcompactions = 3, ReadaheadBytes = 4096 },
        };
        var db = await SlateSharp.Db.OpenAsync(store, "db", options);
        var snapshots = new List<(DbSnapshot Snapshot, Dictionary<string, string> Seen, int Op)>();
        string Key(int i) => $"k{i:D2}";
        string Operand() => kind == "counter" ? random.Next(-5, 20).ToString() : ((char)('a' + random.Next(26))).ToString();
        try
        {
            for (var op = 0; op < 1500; op++)
            {
                var context = $"seed={seed} kind={kind} op={op}";
                var key = Key(random.Next(Keys));
                switch (random.Next(100))
                {
                    case < 35:
                    {
                        var operand = Operand();
                        await db.MergeAsync(Encoding.UTF8.GetBytes(key), Encode(operand), WriteOptions.NoWait);
                        model[key] = Apply(model.GetValueOrDefault(key), operand);
                        break;
                    }

                    case < 45:
                    {
                        var value = kind == "counter" ? random.Next(1000).ToString() : "P" + random.Next(100);
                        await db.PutAsync(Encoding.UTF8.GetBytes(key), Encode(value), WriteOptions.NoWait);
                        model[key] = value;
                        break;
                    }

                    case < 50:
                        await db.DeleteAsync(Encoding.UTF8.GetBytes(key), WriteOptions.NoWait);
                        model.Remove(key);
                        break;
                    case < 55:
                    {
                        // One operation per key: the declining operator cannot combine two merges of a key in a batch.
                        var batch = new WriteBatch();
                        foreach (var k in Enumerable.Range(0, Keys).OrderBy(_ => random.Next()).Take(3).Select(Key))
                        {
                            var operand = Operand();
                            batch.Merge(Encoding.UTF8.GetBytes(k), Encode(operand));
                            model[k] = Apply(model.GetValueOrDefault(k), operand);
                        }

                        await db.WriteAsync(batch, WriteOptions.NoWait);
                        break;
                    }

                    case < 80:
                    {
                        var got = await db.GetAsync(Encoding.UTF8.GetBytes(key));
                        Assert.That(got is null ? null : Decode(got), Is.EqualTo(model.GetValueOrDefault(key)), $"{context} get {key}");
                        break;
                    }

                    case < 85:
                    {
                        var scanned = await db.ScanAsync(default, default).Select(kv => $"{Encoding.UTF8.GetString(kv.Key.Span)}={Decode(kv.Value.Span)}").ToListAsync();
                        Assert.That(scanned, Is.EqualTo(model.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}").ToList()), $"{context} scan");
                        break;
                    }

                    case < 88:
                        snapshots.Add((await db.GetSnapshotAsync(), new Dictionary<string, string>(model), op));
                        break;
                    case < 93:
                        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
                        break;
                    case < 97:
                    {
                        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
                        await using (var compactor = await DbCompactor.OpenAsync(store, "db", compactorOptions))
                        {
                            var jobs = 0;
                            while (jobs++ < 50 && await compactor.RunOnceAsync())
                            {
                            }
                        }

                        await db.RefreshViewAsync();
                        foreach (var (snapshot, seen, taken) in snapshots)
                        {
                            foreach (var k in Enumerable.Range(0, Keys).Select(Key))
                            {
                                var got = await snapshot.GetAsync(Encoding.UTF8.GetBytes(k));
                                Assert.That(got is null ? null : Decode(got), Is.EqualTo(seen.GetValueOrDefault(k)), $"{context} snapshot of op {taken}, {k}, after compaction");
                            }
                        }

                        break;
                    }

                    default:
                        foreach (var (snapshot, _, _) in snapshots)
                        {
                            await snapshot.DisposeAsync();
                        }

                        snapshots.Clear();
                        await db.CloseAsync();
                        db = await SlateSharp.Db.OpenAsync(store, "db", options);
                        break;
                }
            }

            foreach (var k in Enumerable.Range(0, Keys).Select(Key))
            {
                var got = await db.GetAsync(Encoding.UTF8.GetBytes(k));
                Assert.That(got is null ? null : Decode(got), Is.EqualTo(model.GetValueOrDefault(k)), $"seed={seed} kind={kind} final {k}");
            }
        }
        finally
        {
            foreach (var (snapshot, _, _) in snapshots)
            {
                await snapshot.DisposeAsync();
            }

            await db.DisposeAsync();
        }
    }
}
