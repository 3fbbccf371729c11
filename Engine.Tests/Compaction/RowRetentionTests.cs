using SlateSharp.Format;
using SlateSharp.Iteration;

namespace SlateSharp.Tests.Compaction;

/// <summary>Which versions a rewrite keeps: the newest, what a retained snapshot sees, tombstones unless at the bottom.</summary>
public sealed class RowRetentionTests
{
    private static readonly byte[] A = "a"u8.ToArray();
    private static readonly byte[] B = "b"u8.ToArray();

    [Test]
    public void Without_snapshots_only_the_newest_version_of_each_key_is_kept()
    {
        var kept = Apply(new RowRetention([], bottom: false, 0), Put(A, 9), Put(A, 5), Delete(A, 3), Put(B, 7), Put(B, 2));
        Assert.That(kept, Is.EqualTo(new[] { "a@9 Put", "b@7 Put" }));
    }

    [Test]
    public void A_tombstone_is_kept_above_the_bottom_and_dropped_at_it_with_everything_older()
    {
        Assert.That(Apply(new RowRetention([], bottom: false, 0), Delete(A, 9), Put(A, 5), Put(B, 1)), Is.EqualTo(new[] { "a@9 Delete", "b@1 Put" }));
        Assert.That(Apply(new RowRetention([], bottom: true, 0), Delete(A, 9), Put(A, 5), Put(B, 1)), Is.EqualTo(new[] { "b@1 Put" }));
    }

    [Test]
    public void A_snapshot_keeps_the_version_it_sees_and_the_tombstone_above_it()
    {
        // Snapshot 6 sees a@5; the latest state sees the tombstone a@9, which must stay even at the bottom, or the
        // latest state would see a@5 again.
        var kept = Apply(new RowRetention([6], bottom: true, 0), Delete(A, 9), Put(A, 5), Put(A, 4), Put(A, 1));
        Assert.That(kept, Is.EqualTo(new[] { "a@9 Delete", "a@5 Put" }));
    }

    [Test]
    public void Snapshots_between_versions_keep_exactly_the_versions_they_see()
    {
        var kept = Apply(new RowRetention([2, 7, 100], bottom: false, 0), Put(A, 9), Put(A, 7), Put(A, 6), Put(A, 2), Put(A, 1));
        Assert.That(kept, Is.EqualTo(new[] { "a@9 Put", "a@7 Put", "a@2 Put" }));
    }

    [Test]
    public void An_expired_put_becomes_a_tombstone_and_at_the_bottom_goes_away()
    {
        var expired = RowEntry.Put(A, "v"u8.ToArray(), 9, expireAt: 1000);
        var live = RowEntry.Put(B, "v"u8.ToArray(), 8, expireAt: 5000);
        Assert.That(Apply(new RowRetention([], bottom: false, 2000), expired, Put(A, 3), live), Is.EqualTo(new[] { "a@9 Delete", "b@8 Put" }));
        Assert.That(Apply(new RowRetention([], bottom: true, 2000), expired, Put(A, 3), live), Is.EqualTo(new[] { "b@8 Put" }));
    }

    [Test]
    public void Without_an_operator_a_merge_operand_keeps_the_versions_down_to_its_base()
    {
        var merge = new RowEntry(A, "+1"u8.ToArray(), 9, RowKind.Merge);
        Assert.That(Apply(new RowRetention([], bottom: true, 0), merge, Put(A, 5), Delete(A, 3), Put(B, 2)), Is.EqualTo(new[] { "a@9 Merge", "a@5 Put", "b@2 Put" }));
        Assert.That(Apply(new RowRetention([], bottom: false, 0), merge, Merge(A, 7, "x"), Delete(A, 3), Put(A, 2)), Is.EqualTo(new[] { "a@9 Merge", "a@7 Merge", "a@3 Delete" }));
    }

    private static RowEntry Put(byte[] key, ulong sequence) => RowEntry.Put(key, "v"u8.ToArray(), sequence);

    private static RowEntry Delete(byte[] key, ulong sequence) => RowEntry.Delete(key, sequence);

    private static RowEntry Merge(byte[] key, ulong sequence, string operand) => new(key, System.Text.Encoding.UTF8.GetBytes(operand), sequence, RowKind.Merge);

    /// <summary>Feeds the rows and finishes; the kept rows as "key@sequence Kind".</summary>
    internal static List<string> Apply(RowRetention retention, params RowEntry[] rows) =>
        Run(retention, rows).Select(r => $"{System.Text.Encoding.ASCII.GetString(r.Key.Span)}@{r.Sequence} {r.Kind}").ToList();

    internal static List<RowEntry> Run(RowRetention retention, IEnumerable<RowEntry> rows)
    {
        var kept = new List<RowEntry>();
        foreach (var row in rows)
        {
            retention.Add(row);
            while (retention.TryTake(out var output))
            {
                kept.Add(output);
            }
        }

        retention.Finish();
        while (retention.TryTake(out var output))
        {
            kept.Add(output);
        }

        return kept;
    }
}
