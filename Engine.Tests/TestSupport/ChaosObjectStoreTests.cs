using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.TestSupport;

/// <summary>The fault store does what it claims: each fault has exactly its documented effect on the inner store.</summary>
public sealed class ChaosObjectStoreTests
{
    private static readonly ObjectPath Wal = ObjectPath.Parse("db/wal/00000000000000000001.sst");
    private static readonly ObjectPath Manifest = ObjectPath.Parse("db/manifest/00000000000000000001.manifest");
    private InMemoryObjectStore _memory = null!;

    [SetUp]
    public void CreateStore() => _memory = new InMemoryObjectStore("chaos");

    [TearDown]
    public async Task DisposeStores()
    {
        await _memory.DisposeAsync();
    }

    private ChaosObjectStore Chaos(FaultRates rates, StoreOperation? operation = StoreOperation.Put, int maxLag = 12) =>
        new(_memory, FaultProfile.None.With(operation, null, rates).WithLimits(maxLateCommitLag: maxLag), seed: 1);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private async Task<string?> StoredAsync(ObjectPath path) =>
        await _memory.GetAsync(path, ByteRange.All) is { } got ? Encoding.UTF8.GetString(got.Data.Span) : null;

    [Test]
    public async Task A_transient_fault_fails_before_the_store_is_touched()
    {
        var chaos = Chaos(new FaultRates { Transient = 1 });

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.PutAsync(Wal, Bytes("x"), PutMode.CreateIfAbsent));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain("path=db/wal/00000000000000000001.sst").And.Contain("store=memory://chaos"));
        Assert.That(await StoredAsync(Wal), Is.Null);
    }

    [Test]
    public async Task A_lost_answer_applies_the_put_and_the_delete_then_times_out()
    {
        var chaos = Chaos(new FaultRates { AnswerLost = 1 }, operation: null);

        Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.PutAsync(Wal, Bytes("x"), PutMode.CreateIfAbsent));
        Assert.That(await StoredAsync(Wal), Is.EqualTo("x"));

        Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.DeleteAsync(Wal));
        Assert.That(await StoredAsync(Wal), Is.Null);
        Assert.That(chaos.Log.Count(InjectedFault.AnswerLost), Is.EqualTo(2));
    }

    [Test]
    public async Task Exists_after_storing_stores_and_answers_exists_only_for_conditional_puts()
    {
        var chaos = Chaos(new FaultRates { ExistsAfterStoring = 1 });

        var conditional = await chaos.PutAsync(Wal, Bytes("mine"), PutMode.CreateIfAbsent);
        var plain = await chaos.PutAsync(Manifest, Bytes("plain"), PutMode.Overwrite);

        Assert.That(conditional.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(await StoredAsync(Wal), Is.EqualTo("mine"));
        Assert.That(plain.Outcome, Is.EqualTo(PutOutcome.Stored), "an overwrite cannot answer exists");
    }

    [Test]
    public async Task Exists_without_storing_stores_nothing()
    {
        var chaos = Chaos(new FaultRates { ExistsWithoutStoring = 1 });

        var result = await chaos.PutAsync(Wal, Bytes("mine"), PutMode.CreateIfAbsent);

        Assert.That(result.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(await StoredAsync(Wal), Is.Null);
    }

    [Test]
    public async Task A_late_commit_answers_at_once_and_lands_after_the_chosen_number_of_later_answers()
    {
        var chaos = Chaos(new FaultRates { LateCommit = 1 }, maxLag: 1);

        Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.PutAsync(Wal, Bytes("late"), PutMode.CreateIfAbsent));
        Assert.That(await chaos.HeadAsync(Wal), Is.Null, "not there when the next request is answered");
        Assert.That(chaos.PendingLateCommits, Is.EqualTo(1));

        var seen = await chaos.HeadAsync(Wal);

        Assert.That(seen, Is.Not.Null, "landed before the request after that was served");
        Assert.That(await StoredAsync(Wal), Is.EqualTo("late"));
        Assert.That(chaos.PendingLateCommits, Is.Zero);
    }

    [Test]
    public async Task A_late_create_if_absent_whose_name_was_taken_meanwhile_stores_nothing()
    {
        var chaos = Chaos(new FaultRates { LateCommit = 1 }, operation: StoreOperation.Put);
        Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.PutAsync(Wal, Bytes("late"), PutMode.CreateIfAbsent));
        await _memory.PutAsync(Wal, Bytes("other"), PutMode.CreateIfAbsent);

        await chaos.LandLateCommitsAsync();

        Assert.That(await StoredAsync(Wal), Is.EqualTo("other"));
        Assert.That(chaos.Log.Tail(5), Does.Contain("AlreadyExists, stored nothing"));
    }

    [Test]
    public async Task A_stream_put_is_read_whole_and_can_land_late()
    {
        var chaos = Chaos(new FaultRates { LateCommit = 1 });
        using var content = new MemoryStream(Bytes("streamed"));

        Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.PutAsync(Wal, content, PutMode.Overwrite));
        Assert.That(content.Position, Is.EqualTo(content.Length));
        await chaos.LandLateCommitsAsync();

        Assert.That(await StoredAsync(Wal), Is.EqualTo("streamed"));
    }

    [Test]
    public async Task A_cut_listing_returns_a_prefix_in_order_then_fails()
    {
        for (var i = 0; i < 10; i++)
        {
            await _memory.PutAsync(ObjectPath.Parse($"db/wal/{i:D20}.sst"), Bytes("w"), PutMode.Overwrite);
        }

        var chaos = Chaos(new FaultRates { ListCut = 1 }, operation: StoreOperation.List);
        var seen = new List<string>();
        var error = Assert.ThrowsAsync<SlateSharpException>(async () =>
        {
            await foreach (var item in chaos.ListAsync("db/wal/"))
            {
                seen.Add(item.Path.Value);
            }
        });

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(seen, Has.Count.LessThan(10));
        Assert.That(seen, Is.EqualTo(Enumerable.Range(0, seen.Count).Select(i => $"db/wal/{i:D20}.sst")));
    }

    [Test]
    public async Task A_permanent_failure_strikes_its_area_until_healed()
    {
        var chaos = Chaos(FaultRates.None);
        chaos.BreakPermanently(StoreArea.Wal);

        Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.PutAsync(Wal, Bytes("x"), PutMode.CreateIfAbsent));
        Assert.ThrowsAsync<SlateSharpException>(async () => await chaos.HeadAsync(Wal));
        Assert.That((await chaos.PutAsync(Manifest, Bytes("m"), PutMode.CreateIfAbsent)).Stored, Is.True, "other areas work");

        chaos.BreakPermanently(null, PermanentFault.Exists);
        Assert.That((await chaos.PutAsync(Wal, Bytes("x"), PutMode.CreateIfAbsent)).Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(await StoredAsync(Wal), Is.Null);
        Assert.That((await chaos.PutAsync(Wal, Bytes("o"), PutMode.Overwrite)).Stored, Is.True, "plain puts still work");

        chaos.Heal();
        Assert.That(await chaos.HeadAsync(Wal), Is.Not.Null);
    }

    [Test]
    public async Task Suspended_faults_are_not_injected()
    {
        var chaos = Chaos(new FaultRates { Transient = 1 }, operation: null);
        chaos.Suspended = true;

        await chaos.PutAsync(Wal, Bytes("x"), PutMode.CreateIfAbsent);

        Assert.That(await chaos.GetAsync(Wal, ByteRange.All), Is.Not.Null);
        Assert.That(chaos.Log.Faults, Is.Zero);
    }

    [Test]
    public async Task The_same_seed_injects_the_same_faults_and_another_seed_others()
    {
        async Task<IReadOnlyList<string>> RunAsync(int seed)
        {
            var chaos = new ChaosObjectStore(new InMemoryObjectStore("chaos"), FaultProfile.Everything, seed);
            for (var i = 0; i < 300; i++)
            {
                var path = ObjectPath.Parse($"db/{(i % 3 == 0 ? "wal" : i % 3 == 1 ? "manifest" : "compacted")}/{i:D20}");
                try
                {
                    await chaos.PutAsync(path, Bytes("x"), i % 2 == 0 ? PutMode.CreateIfAbsent : PutMode.Overwrite);
                    await chaos.GetAsync(path, ByteRange.All);
                }
                catch (SlateSharpException e) when (e.Kind == ErrorKind.Unavailable)
                {
                }
            }

            return chaos.Log.Entries;
        }

        var first = await RunAsync(5);
        var again = await RunAsync(5);
        var other = await RunAsync(6);

        Assert.That(first, Has.Count.GreaterThan(10), "the profile injects faults");
        Assert.That(again, Is.EqualTo(first));
        Assert.That(other, Is.Not.EqualTo(first));
    }
}
