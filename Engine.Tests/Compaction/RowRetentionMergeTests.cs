using System.Text;
using SlateSharp.Format;
using SlateSharp.Iteration;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compaction;

/// <summary>
/// How a rewrite folds merge operands with an operator: into the base below them, into no value at the bottom, by
/// partial merge otherwise, and never across a retained snapshot; checked by example and by comparing every read
/// point's answer before and after on random version histories.
/// </summary>
public sealed class RowRetentionMergeTests
{
    private static readonly byte[] A = "a"u8.ToArray();
    private static readonly AppendMergeOperator Append = new();

    private static RowEntry M(ulong sequence, string operand) => new(A, Encoding.UTF8.GetBytes(operand), sequence, RowKind.Merge);

    private static RowEntry P(ulong sequence, string value, long? expireAt = null) => RowEntry.Put(A, Encoding.UTF8.GetBytes(value), sequence, expireAt);

    private static RowEntry D(ulong sequence) => RowEntry.Delete(A, sequence);

    private static List<string> Kept(RowRetention retention, params RowEntry[] rows) =>
        RowRetentionTests.Run(retention, rows).Select(r => $"{r.Sequence} {r.Kind} {Encoding.UTF8.GetString(r.Value.Span)}").ToList();

    [Test]
    public void Operands_fold_into_the_put_below_them_and_shadowed_versions_go()
    {
        Assert.That(Kept(new RowRetention([], false, 0, Append), M(9, "c"), M(8, "b"), P(5, "a"), P(3, "old")), Is.EqualTo(new[] { "9 Put a,b,c" }));
    }

    [Test]
    public void Operands_fold_into_a_tombstone_as_into_no_value()
    {
        Assert.That(Kept(new RowRetention([], false, 0, Append), M(9, "b"), D(5), P(3, "old")), Is.EqualTo(new[] { "9 Put b" }));
    }

    [Test]
    public void Operands_with_nothing_below_become_a_put_at_the_bottom_and_one_operand_above_it()
    {
        Assert.That(Kept(new RowRetention([], true, 0, Append), M(9, "b"), M(7, "a")), Is.EqualTo(new[] { "9 Put a,b" }));
        Assert.That(Kept(new RowRetention([], false, 0, Append), M(9, "b"), M(7, "a")), Is.EqualTo(new[] { "9 Merge a,b" }));
    }

    [Test]
    public void A_declined_partial_merge_keeps_the_operands()
    {
        var declines = new AppendMergeOperator(partialLimit: 0);
        Assert.That(Kept(new RowRetention([], false, 0, declines), M(9, "b"), M(7, "a")), Is.EqualTo(new[] { "9 Merge b", "7 Merge a" }));
    }

    [Test]
    public void A_snapshot_between_operands_splits_the_fold()
    {
        // Snapshot 8 sees a@7 as newest: it must still read "a,b", the latest state "a,b,c".
        Assert.That(Kept(new RowRetention([8], false, 0, Append), M(9, "c"), M(7, "b"), P(5, "a")), Is.EqualTo(new[] { "9 Merge c", "7 Put a,b" }));
    }

    [Test]
    public void A_snapshot_between_operands_and_their_base_keeps_the_base()
    {
        // Snapshot 6 reads the put a@5 alone.
        Assert.That(Kept(new RowRetention([6], false, 0, Append), M(9, "c"), M(8, "b"), P(5, "a"), P(3, "old")), Is.EqualTo(new[] { "9 Merge b,c", "5 Put a" }));
    }

    [Test]
    public void A_put_that_will_expire_is_no_base_but_one_that_has_expired_is_no_value()
    {
        Assert.That(Kept(new RowRetention([], false, 2000, Append), M(9, "b"), P(5, "a", expireAt: 5000)), Is.EqualTo(new[] { "9 Merge b", "5 Put a" }));
        Assert.That(Kept(new RowRetention([], false, 6000, Append), M(9, "b"), P(5, "a", expireAt: 5000)), Is.EqualTo(new[] { "9 Put b" }));
    }

    [Test]
    public void An_operator_that_throws_leaves_the_rows_as_they_are()
    {
        Assert.That(Kept(new RowRetention([], true, 0, new ThrowingMergeOperator()), M(9, "b"), M(8, "a"), P(5, "x")), Is.EqualTo(new[] { "9 Merge b", "8 Merge a", "5 Put x" }));
    }

    [Test]
    public void Every_read_point_sees_the_same_value_before_and_after_on_random_histories()
    {
        var seed = TestSeeds.Get(1301);
        var random = new Random(seed);
        var time = new ManualTimeProvider();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var operators = new IMergeOperator?[] { null, Append, new AppendMergeOperator(partialLimit: 0), new AppendMergeOperator(partialLimit: 6) };
        for (var round = 0; round < 2000; round++)
        {
            var mergeOperator = operators[random.Next(operators.Length)];
            var bottom = random.Next(2) == 0;
            var count = random.Next(1, 10);
            var rows = new List<RowEntry>();
            var sequence = (ulong)(count + 5);
            for (var i = 0; i < count; i++)
            {
                sequence -= (ulong)random.Next(1, 2);
                rows.Add(random.Next(6) switch
                {
                    0 => D(sequence),
                    1 => P(sequence, $"p{i}", expireAt: random.Next(2) == 0 ? now - 1 : now + 1000),
                    2 => P(sequence, $"p{i}"),
                    _ => M(sequence, $"m{i}"),
                });
            }

            var snapshots = Enumerable.Range(0, random.Next(4)).Select(_ => (ulong)random.Next(0, count + 6)).Distinct().Order().ToList();
            var kept = RowRetentionTests.Run(new RowRetention(snapshots, bottom, now, mergeOperator), rows);

            // Above the bottom, older sources may hold more of the key: check with and without a value below.
            var tails = bottom ? new[] { Array.Empty<RowEntry>() } : [[], [P(0, "below")]];
            var resolver = new MergeResolver(Append, time);
            foreach (var tail in tails)
            {
                foreach (var point in snapshots.Append(ulong.MaxValue))
                {
                    var before = resolver.Resolve(rows.Concat(tail).Where(r => r.Sequence <= point).ToArray());
                    var after = resolver.Resolve(kept.Concat(tail).Where(r => r.Sequence <= point).ToArray());
                    Assert.That(after is { } a ? Encoding.UTF8.GetString(a.Span) : null, Is.EqualTo(before is { } b ? Encoding.UTF8.GetString(b.Span) : null),
                        $"seed={seed} round={round} point={point} bottom={bottom} snapshots=[{string.Join(",", snapshots)}] in=[{string.Join("; ", rows)}] out=[{string.Join("; ", kept)}]");
                }
            }
        }
    }
}
