using System.Text;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// The kill test's judge on hand-written ack logs: each rule rejects the state it forbids and accepts the states the
/// acknowledgements allow, so a passing kill test means something.
/// </summary>
public sealed class KillCheckerTests
{
    private const int Cycle = 3;
    private TestDirectory _directory = null!;
    private int _logs;

    [SetUp]
    public void CreateDirectory() => _directory = new TestDirectory();

    [TearDown]
    public void RemoveDirectory() => _directory.Dispose();

    [Test]
    public void A_durable_acknowledgement_must_survive()
    {
        var log = Log("S 0 0 put d 1:10", "A 0 0");

        Assert.That(Check(log, [], Put(0, 0, 1, 10)).Violations, Is.Empty);
        Assert.That(Check(log, []).Violations, Has.One.Contains("key w00-000000001: is absent").And.Contains("(lost)"));
    }

    [Test]
    public void A_memtable_acknowledgement_may_be_lost_unless_a_durable_call_started_after_it_returned()
    {
        var alone = Log("S 0 0 put m 1:10", "A 0 0");
        var beforeFlush = Log("S 0 0 put m 1:10", "A 0 0", "S 1 0 wal -", "A 1 0");
        var beforeDurablePut = Log("S 0 0 put m 1:10", "A 0 0", "S 1 0 put d 2:10", "A 1 0");
        var duringFlush = Log("S 1 0 mem -", "S 0 0 put m 1:10", "A 0 0", "A 1 0");
        var flushUnanswered = Log("S 0 0 put m 1:10", "A 0 0", "S 1 0 wal -");

        Assert.That(Check(alone, []).Violations, Is.Empty);
        Assert.That(Check(alone, [], Put(0, 0, 1, 10)).Violations, Is.Empty);
        Assert.That(Check(beforeFlush, []).Violations, Is.Not.Empty);
        Assert.That(Check(beforeDurablePut, [], Put(1, 0, 2, 10)).Violations, Is.Not.Empty);
        Assert.That(Check(duringFlush, []).Violations, Is.Empty);
        Assert.That(Check(flushUnanswered, []).Violations, Is.Empty);
    }

    [Test]
    public void A_close_that_returned_makes_everything_acknowledged_before_it_durable()
    {
        var log = Log("S 0 0 put m 1:10", "A 0 0", "S -1 0 close -", "S 0 1 put m 2:10", "E 0 1 SlateSharpException: closed", "A -1 0");

        Assert.That(Check(log, [], Put(0, 0, 1, 10)).Violations, Is.Empty);
        Assert.That(Check(log, []).Violations, Is.Not.Empty);
    }

    [Test]
    public void A_surviving_write_proves_every_write_acknowledged_before_it_started()
    {
        var sameWriter = Log("S 0 0 put m 1:10", "A 0 0", "S 0 1 put m 2:10", "A 0 1");
        var otherWriter = Log("S 0 0 put m 1:10", "A 0 0", "S 1 0 put m 2:10", "A 1 0");

        Assert.That(Check(sameWriter, [], Put(0, 1, 2, 10)).Violations, Is.Not.Empty, "a hole in one writer's calls");
        Assert.That(Check(otherWriter, [], Put(1, 0, 2, 10)).Violations, Is.Not.Empty, "a hole across writers");
        Assert.That(Check(otherWriter, [], Put(0, 0, 1, 10), Put(1, 0, 2, 10)).Violations, Is.Empty);
    }

    [Test]
    public void A_later_started_write_may_replace_the_required_one_but_an_earlier_may_not()
    {
        var log = Log("S 0 0 put d 1:10", "A 0 0", "S 0 1 put d 1:20", "A 0 1", "S 0 2 put m 1:30");

        Assert.That(Check(log, [], Put(0, 2, 1, 30)).Violations, Is.Empty);
        Assert.That(Check(log, [], Put(0, 1, 1, 20)).Violations, Is.Empty);
        Assert.That(Check(log, [], Put(0, 0, 1, 10)).Violations, Is.Not.Empty);
        Assert.That(Check(log, []).Violations, Is.Not.Empty);
    }

    [Test]
    public void An_acknowledged_delete_stays_deleted()
    {
        var old = Put(0, 7, 1, 10, cycle: Cycle - 1);
        var log = Log("S 0 0 del d 1:-1", "A 0 0");

        Assert.That(Check(log, [old]).Violations, Is.Empty);
        Assert.That(Check(log, [old], old).Violations, Is.Not.Empty);
        Assert.That(Check(Log("S 0 0 del m 1:-1", "A 0 0"), [old], old).Violations, Is.Empty, "a memtable-acknowledged delete may be lost");
    }

    [Test]
    public void A_value_never_written_damaged_or_overwritten_earlier_fails()
    {
        var log = Log("S 0 0 put m 1:10", "A 0 0");
        var damaged = Put(0, 0, 1, 10);
        damaged.Value[^1] ^= 1;

        Assert.That(Check(log, [], ("w00-000000001", Encoding.ASCII.GetBytes("garbage"))).Violations, Has.One.Contains("no write produced"));
        Assert.That(Check(log, [], damaged).Violations, Has.One.Contains("damaged"));
        Assert.That(Check(log, [], Put(0, 0, 1, 10, cycle: Cycle - 1)).Violations, Has.One.Contains("came back"));
        Assert.That(Check(log, [], Put(0, 5, 1, 10)).Violations, Has.One.Contains("never started"));
        Assert.That(Check(log, [], ("x", [1])).Violations, Has.One.Contains("no writer of this test"));
    }

    [Test]
    public void A_batch_is_all_or_nothing()
    {
        var log = Log("S 0 0 batch m 1:10 2:20 3:-1");
        var old = Put(0, 4, 3, 10, cycle: Cycle - 1);

        Assert.That(Check(log, []).Violations, Is.Empty, "nothing");
        Assert.That(Check(log, [old], old).Violations, Is.Empty, "nothing, baseline kept");
        Assert.That(Check(log, [old]).Violations, Has.One.Contains("no prefix"), "only the delete");
        Assert.That(Check(log, [old], Put(0, 0, 1, 10), Put(0, 0, 2, 20)).Violations, Is.Empty, "all");
        Assert.That(Check(log, [old], Put(0, 0, 1, 10), old).Violations, Has.One.Contains("batch was torn"));
        Assert.That(Check(log, [old], Put(0, 0, 1, 10), Put(0, 0, 2, 20), old).Violations, Has.One.Contains("batch was torn"));
    }

    [Test]
    public void A_key_nothing_wrote_keeps_its_baseline()
    {
        var old = Put(2, 1, 9, 10, cycle: Cycle - 1);
        var log = Log("S 0 0 put m 1:10", "A 0 0");

        Assert.That(Check(log, [old], old).Violations, Is.Empty);
        Assert.That(Check(log, [old]).Violations, Has.One.Contains("nothing wrote it"));
    }

    [Test]
    public void A_torn_last_line_is_ignored_and_a_reordered_log_is_rejected()
    {
        var path = Path.Combine(_directory.Path, "torn.log");
        File.WriteAllText(path, "S 0 0 put d 1:10\nA 0 0\nS 0 1 put d 1:2");
        var history = CrashHistory.Read(path);
        File.WriteAllText(path, "S 0 1 put d 1:10\nA 0 1\nS 0 0 put d 1:20\nA 0 0\n");

        Assert.That(history.Ops, Has.Count.EqualTo(1));
        Assert.That(history.Ops[0].Ack, Is.EqualTo(1));
        Assert.That(() => CrashHistory.Read(path), Throws.TypeOf<InvalidDataException>());
    }

    private static (string Key, byte[] Value) Put(int writer, int op, int key, int padding, int cycle = Cycle) =>
        (CrashValues.Key(writer, key), CrashValues.Value(cycle, writer, op, key, padding));

    private static KillCheckResult Check(CrashHistory history, (string Key, byte[] Value)[] baseline, params (string Key, byte[] Value)[] recovered) =>
        KillChecker.Check(Cycle, history, baseline.ToDictionary(p => p.Key, p => p.Value), recovered.ToDictionary(p => p.Key, p => p.Value));

    private CrashHistory Log(params string[] lines)
    {
        var path = Path.Combine(_directory.Path, $"{_logs++}.log");
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return CrashHistory.Read(path);
    }
}
