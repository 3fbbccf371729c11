using SlateSharp.Manifest;

namespace SlateSharp.Tests.Manifest;

/// <summary>
/// The range-tombstone rules of <see cref="ManifestTransitions.FindViolation"/>: the writer appends tombstones with the
/// flush that raises last_l0_sequence past them, the compactor removes them, and neither changes one.
/// </summary>
public sealed class ManifestTransitionsTests
{
    private static readonly RangeTombstone Five = new(K("a"), K("c"), 5);
    private static readonly RangeTombstone Eight = new(K("m"), K("p"), 8);
    private static readonly RangeTombstone Ten = new(K("x"), K("y"), 10);

    /// <summary>A manifest with everything up to sequence 10 flushed and three tombstones.</summary>
    private static readonly DbManifest Previous = DbManifest.Empty with
    {
        WriterEpoch = 2,
        CompactorEpoch = 1,
        LastL0Sequence = 10,
        RangeTombstones = [Five, Eight, Ten],
    };

    [Test]
    public void The_writer_appends_tombstones_with_the_flush_that_raises_last_l0_sequence()
    {
        var flushed = Previous with { LastL0Sequence = 20, RangeTombstones = [Five, Eight, Ten, new(K("b"), K("e"), 11), new(K("q"), K("r"), 20)] };
        Assert.That(Writer(flushed), Is.Null);
        Assert.That(Writer(Previous with { LastL0Sequence = 20 }), Is.Null, "a flush without range deletes");
        Assert.That(Writer(Previous), Is.Null, "an update that keeps the tombstones");
        Assert.That(Writer(DbManifest.Empty with { WriterEpoch = 2, CompactorEpoch = 1, LastL0Sequence = 10 }, DbManifest.Empty with { WriterEpoch = 2, CompactorEpoch = 1, LastL0Sequence = 11, RangeTombstones = [new(K("a"), K("b"), 11)] }), Is.Null, "the first tombstone");
    }

    [Test]
    public void The_writer_may_not_append_a_tombstone_at_or_below_the_previous_last_l0_sequence()
    {
        // Sequence 9 was flushed before: a range delete the earlier flush did not bring cannot arrive later.
        var late = Previous with { LastL0Sequence = 20, RangeTombstones = [Five, Eight, Ten, new(K("b"), K("e"), 9)] };
        Assert.That(Writer(late), Does.Contain("sequences must strictly ascend"), "the list order catches it first");
        var equal = Previous with { LastL0Sequence = 10, RangeTombstones = [Five, Eight] };
        var appendedAtTen = equal with { RangeTombstones = [Five, Eight, Ten] };
        Assert.That(Writer(equal, appendedAtTen), Does.Contain("must arrive with the flush that raises last_l0_sequence past it"));
        var noFlush = Previous with { LastL0Sequence = 10, RangeTombstones = [Five] };
        Assert.That(Writer(noFlush, noFlush with { RangeTombstones = [Five, Eight] }), Does.Contain("must arrive with the flush"));
    }

    [Test]
    public void The_writer_may_not_append_a_tombstone_above_the_next_last_l0_sequence()
    {
        var unflushed = Previous with { LastL0Sequence = 20, RangeTombstones = [Five, Eight, Ten, new(K("b"), K("e"), 21)] };
        Assert.That(Writer(unflushed), Does.Contain("above last_l0_sequence"));
    }

    [Test]
    public void The_writer_may_not_remove_or_change_a_tombstone()
    {
        Assert.That(Writer(Previous with { RangeTombstones = [Five, Ten] }), Does.Contain("never remove or change"));
        Assert.That(Writer(Previous with { RangeTombstones = [] }), Does.Contain("never remove or change"));
        Assert.That(Writer(Previous with { RangeTombstones = [Five, Eight, Ten with { End = K("z") }] }), Does.Contain("never remove or change"));
        Assert.That(
            Writer(Previous with { LastL0Sequence = 20, RangeTombstones = [Five, Eight, new(K("x"), K("y"), 12)] }),
            Does.Contain("never remove or change"), "replacing the newest with a new one is a removal");
    }

    [Test]
    public void The_compactor_removes_tombstones_in_any_combination()
    {
        Assert.That(Compactor(Previous), Is.Null);
        Assert.That(Compactor(Previous with { RangeTombstones = [Five, Ten] }), Is.Null);
        Assert.That(Compactor(Previous with { RangeTombstones = [Eight] }), Is.Null);
        Assert.That(Compactor(Previous with { RangeTombstones = [] }), Is.Null);
    }

    [Test]
    public void The_compactor_may_not_add_or_change_a_tombstone()
    {
        var withoutEight = Previous with { RangeTombstones = [Five, Ten] };
        Assert.That(Compactor(withoutEight, Previous), Does.Contain("never add or change"), "adding one back");
        Assert.That(Compactor(Previous with { RangeTombstones = [Five, new(K("b"), K("e"), 9), Ten] }), Does.Contain("never add or change"));
        Assert.That(Compactor(Previous with { RangeTombstones = [Five, Eight with { Start = K("n") }, Ten] }), Does.Contain("never add or change"));
    }

    private static string? Writer(DbManifest next) => Writer(Previous, next);

    private static string? Writer(DbManifest previous, DbManifest next) => ManifestTransitions.FindViolation(previous, next, ManifestRole.Writer, []);

    private static string? Compactor(DbManifest next) => Compactor(Previous, next);

    private static string? Compactor(DbManifest previous, DbManifest next) => ManifestTransitions.FindViolation(previous, next, ManifestRole.Compactor, []);

    private static byte[] K(string text) => System.Text.Encoding.ASCII.GetBytes(text);
}
