using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Compaction;
using SlateSharp.Gc;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compaction;

/// <summary>
/// A compaction job that runs longer than the publish deadline (<see cref="SstPublishing.Deadline"/>) registers its
/// outputs as unpublished in the manifest while they are young, so a collector in another process keeps them and the
/// job can still publish them; the rules for who may change that list, and when it is cleared.
/// </summary>
public sealed class LongCompactionJobTests
{
    private static readonly TimeSpan StepPerOutput = TimeSpan.FromMinutes(8);

    [Test]
    public async Task A_job_longer_than_the_publish_deadline_registers_its_outputs_a_collector_keeps_them_and_the_job_publishes()
    {
        var seed = TestSeeds.Get(61);
        var clock = new ManualWallClock();
        var memory = new InMemoryObjectStore("long-job", clock);
        var store = new InterceptingObjectStore(memory);
        var options = Options(seed, clock);
        var model = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using (var db = await SlateSharp.Db.OpenAsync(store, "", options))
        {
            await CompactorTests.WriteAsync(db, model, new Random(seed), 6000);
        }

        // An orphan minted and stored as the job starts, referenced by nothing: the collector deletes it once it is
        // old, which shows the collector would have deleted the job's first outputs too had they not been registered.
        var orphan = SstId.Create(clock.GetUtcNow().ToUnixTimeMilliseconds(), [9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
        await memory.PutAsync(SstPaths.PathOf(orphan), new byte[100], PutMode.CreateIfAbsent);

        // A collector in another process: no pins, only what the stored manifests say and the objects' ages.
        var collector = new GarbageCollector(memory, new GcOptions(), clock, NullLogger.Instance);
        var manifests = new ManifestStore(memory);
        var outputs = 0;
        var mostRegistered = 0;
        var deletedDuringJob = new List<string>();
        store.OnPut = async (path, _, proceed, _) =>
        {
            var result = await proceed();
            if (path.Value.StartsWith(SstPaths.Prefix, StringComparison.Ordinal))
            {
                // Each output takes eight minutes: the job as a whole outlives the deadline and the collector's minimum age.
                Interlocked.Increment(ref outputs);
                clock.Advance((long)StepPerOutput.TotalMilliseconds);
                var report = await collector.RunOnceAsync(CancellationToken.None);
                lock (deletedDuringJob)
                {
                    deletedDuringJob.AddRange(report.Ssts.Paths);
                }

                var latest = (await manifests.ReadLatestAsync(CancellationToken.None))!.Manifest;
                InterlockedMax(ref mostRegistered, latest.UnpublishedCompactionOutputs.Count);
            }

            return result;
        };

        var started = clock.GetUtcNow();
        await using (var compactor = await DbCompactor.OpenAsync(store, "", options))
        {
            Assert.That(await compactor.RunOnceAsync(), Is.True);
            Assert.That(compactor.Stats.Jobs, Is.EqualTo(1));
            Assert.That(compactor.Stats.FailedJobs, Is.Zero, "published on the first attempt");
        }

        store.OnPut = null;
        var manifest = (await manifests.ReadLatestAsync(CancellationToken.None))!.Manifest;
        var published = manifest.SortedRuns.Single().Ssts;
        TestContext.Out.WriteLine($"{outputs} outputs in {clock.GetUtcNow() - started}; at most {mostRegistered} registered; collector deleted {deletedDuringJob.Count} ssts during the job");
        Assert.That(clock.GetUtcNow() - started, Is.GreaterThan(new GcOptions().SstMinAge), "the job outlived the collector's minimum age");
        Assert.That(SstPublishing.IsTooOld(published[0].Id, clock), Is.True, "its first output was minted longer ago than the deadline");
        Assert.That(mostRegistered, Is.GreaterThan(0), "outputs were registered while the job ran");
        Assert.That(manifest.UnpublishedCompactionOutputs, Is.Empty, "publishing clears the registrations");
        Assert.That(manifest.L0, Is.Empty);
        Assert.That(deletedDuringJob, Is.EqualTo(new[] { SstPaths.PathOf(orphan).Value }), "the collector deleted the orphan as old as the first outputs, and nothing else");
        Assert.That(deletedDuringJob.Intersect(published.Select(h => SstPaths.PathOf(h.Id).Value)), Is.Empty, "no output was deleted before it was published");
        foreach (var sst in published)
        {
            Assert.That(await memory.HeadAsync(SstPaths.PathOf(sst.Id)), Is.Not.Null, $"{sst.Id} is stored");
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(memory, "", options);
        await CompactorTests.AssertMatchesAsync(reopened, model);
    }

    [Test]
    public void Publishing_an_output_older_than_the_deadline_is_refused_unless_the_manifest_registers_it_and_publishing_clears_the_list()
    {
        var clock = new ManualWallClock();
        var (input, job) = OneL0Job(clock);
        var output = Handle(clock, 2);
        var stale = Handle(clock, 3);
        var picked = DbManifest.Empty with { WriterEpoch = 1, CompactorEpoch = 1, L0 = [input] };
        clock.Advance((long)(SstPublishing.Deadline + TimeSpan.FromMinutes(1)).TotalMilliseconds);

        var refused = Assert.Throws<SlateSharpException>(() => CompactionChange.Apply(picked, job, [output], clock))!;
        Assert.That(refused.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(refused.Message, Does.Contain(output.Id.ToString()).And.Contain("not published"));

        var registered = picked with { UnpublishedCompactionOutputs = [.. new[] { output.Id, stale.Id }.Order()] };
        var applied = CompactionChange.Apply(registered, job, [output], clock);
        Assert.That(applied.L0, Is.Empty);
        Assert.That(applied.SortedRuns.Single().Ssts, Is.EqualTo(new[] { output }));
        Assert.That(applied.UnpublishedCompactionOutputs, Is.Empty, "the published output and an earlier attempt's leftover both leave the list");
        Assert.That(CompactionChange.Apply(applied, job, [output], clock), Is.SameAs(applied), "idempotent once applied");
    }

    [Test]
    public void Registering_adds_in_id_order_is_idempotent_and_refuses_an_output_already_too_old()
    {
        var clock = new ManualWallClock();
        var first = Handle(clock, 1).Id;
        clock.Advance(1000);
        var second = Handle(clock, 2).Id;
        var manifest = DbManifest.Empty with { CompactorEpoch = 1 };

        var once = UnpublishedOutputs.Register(manifest, [second, first], clock);
        Assert.That(once.UnpublishedCompactionOutputs, Is.EqualTo(new[] { first, second }));
        Assert.That(UnpublishedOutputs.Register(once, [first, second], clock), Is.SameAs(once), "already registered: nothing to write");

        clock.Advance((long)(SstPublishing.Deadline + TimeSpan.FromSeconds(1)).TotalMilliseconds);
        Assert.That(UnpublishedOutputs.Register(once, [first], clock), Is.SameAs(once), "registered before it grew old: still fine");
        var late = Handle(clock, 3).Id;
        clock.Advance((long)(SstPublishing.Deadline + TimeSpan.FromSeconds(1)).TotalMilliseconds);
        var error = Assert.Throws<SlateSharpException>(() => UnpublishedOutputs.Register(once, [late], clock))!;
        Assert.That(error.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain(late.ToString()));
    }

    [Test]
    public void Only_the_compactor_changes_the_list_and_it_adds_only_outputs_it_minted()
    {
        var clock = new ManualWallClock();
        var a = Handle(clock, 1).Id;
        var b = Handle(clock, 2).Id;
        var previous = DbManifest.Empty with { WriterEpoch = 1, CompactorEpoch = 1, UnpublishedCompactionOutputs = [a] };
        var added = previous with { UnpublishedCompactionOutputs = [.. new[] { a, b }.Order()] };

        Assert.That(ManifestTransitions.FindViolation(previous, added, ManifestRole.Compactor, [b]), Is.Null);
        Assert.That(ManifestTransitions.FindViolation(previous, previous with { UnpublishedCompactionOutputs = [] }, ManifestRole.Compactor, []), Is.Null, "the compactor removes any");
        Assert.That(ManifestTransitions.FindViolation(previous, added, ManifestRole.Compactor, []), Does.Contain("only outputs it has minted").And.Contain(b.ToString()));
        Assert.That(ManifestTransitions.FindViolation(previous, previous with { LastL0Sequence = 5 }, ManifestRole.Writer, []), Is.Null, "the writer carries the list over");
        Assert.That(ManifestTransitions.FindViolation(previous, added, ManifestRole.Writer, [b]), Does.Contain("only the compactor"));
        Assert.That(ManifestTransitions.FindViolation(previous, previous with { UnpublishedCompactionOutputs = [] }, ManifestRole.Writer, []), Does.Contain("only the compactor"));
    }

    [Test]
    public async Task A_new_compactor_epoch_clears_the_list_and_a_new_writer_epoch_keeps_it()
    {
        var clock = new ManualWallClock();
        var store = new InMemoryObjectStore("claims", clock);
        var manifests = new ManifestStore(store);
        var registered = DbManifest.Empty with { WriterEpoch = 1, CompactorEpoch = 1, UnpublishedCompactionOutputs = [Handle(clock, 1).Id] };
        Assert.That(await manifests.TryWriteAsync(1, registered, CancellationToken.None), Is.True);
        var manifestOptions = new ManifestOptions(TimeSpan.FromSeconds(10), clock);

        using var writer = await FenceableManifest.InitWriterAsync(manifests, manifestOptions, CancellationToken.None);
        Assert.That(writer.Manifest.UnpublishedCompactionOutputs, Is.EqualTo(registered.UnpublishedCompactionOutputs), "a writer claim keeps the compactor's list");
        using var compactor = await FenceableManifest.InitCompactorAsync(manifests, manifestOptions, CancellationToken.None);
        Assert.That(compactor.Manifest.UnpublishedCompactionOutputs, Is.Empty, "the fenced compactor's jobs can no longer publish");
        Assert.That((await manifests.ReadLatestAsync(CancellationToken.None))!.Manifest.UnpublishedCompactionOutputs, Is.Empty);
    }

    private static (SstHandle Input, CompactionJob Job) OneL0Job(TimeProvider clock)
    {
        var input = Handle(clock, 1);
        return (input, new CompactionJob([CompactionSource.Of(input)], 1, Bottom: true));
    }

    private static SstHandle Handle(TimeProvider clock, byte n) =>
        new(SstId.Create(clock.GetUtcNow().ToUnixTimeMilliseconds(), [n, 0, 0, 0, 0, 0, 0, 0, 0, n]), 100, "a"u8.ToArray(), "z"u8.ToArray(), 1);

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private static DbOptions Options(int seed, TimeProvider clock) => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(2),
        MemtableSizeBytes = 16 << 10,
        MaxUnflushedBytes = 256 << 10,
        BlockSizeBytes = 512,
        L0MaxSsts = 1000,
        Compaction = new CompactionOptions
        {
            Enabled = false,
            MinSourcesPerJob = 2,
            MaxSourcesPerJob = 64,
            SizeRatio = 100,
            TargetSstBytes = 4 << 10,
            MaxSubcompactions = 1,
            PollInterval = TimeSpan.FromMilliseconds(10),
            ReadaheadBytes = 4096,
        },
        ManifestPollInterval = TimeSpan.FromMilliseconds(20),
        RandomSeed = seed,
        TimeProvider = clock,
    };
}
