using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Format;
using SlateSharp.Gc;
using SlateSharp.Leases;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;
using SlateSharp.Wal;

namespace SlateSharp.Tests.Gc;

/// <summary>
/// A database's objects written by hand on an in-memory store whose clock (and the collector's) is a
/// <see cref="ManualTimeProvider"/>: each test builds exactly the state a rule is about, moves time, and collects.
/// </summary>
internal sealed class GcWorld
{
    private readonly Random _random;
    private ulong _nextManifestId = 1;

    public GcWorld(int seed = 1)
    {
        _random = new Random(seed);
        Objects = new InMemoryObjectStore("gc-world", Time);
        Store = Objects;
        Manifests = new ManifestStore(Objects);
    }

    public ManualTimeProvider Time { get; } = new();

    public InMemoryObjectStore Objects { get; }

    /// <summary>What the collector talks to: <see cref="Objects"/>, or a decorator a test puts over it.</summary>
    public IObjectStore Store { get; set; }

    public ManifestStore Manifests { get; }

    public long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Stores an SST object whose id is minted now (or <paramref name="mintedAgo"/> before now).</summary>
    public async Task<SstHandle> PutSstAsync(TimeSpan? mintedAgo = null)
    {
        var random = new byte[10];
        _random.NextBytes(random);
        var id = SstId.Create(NowMs - (long)(mintedAgo ?? TimeSpan.Zero).TotalMilliseconds, random);
        await Objects.PutAsync(SstPaths.PathOf(id), new byte[100], PutMode.CreateIfAbsent);
        return new SstHandle(id, 100, Encoding.UTF8.GetBytes("a"), Encoding.UTF8.GetBytes("z"), 1);
    }

    /// <summary>Writes the next manifest version with <paramref name="l0"/> as its L0 and returns its id.</summary>
    public async Task<ulong> PutManifestAsync(
        IReadOnlyList<SstHandle>? l0 = null, ulong replayAfterWalId = 0, IReadOnlyList<Checkpoint>? checkpoints = null)
    {
        var id = _nextManifestId++;
        var manifest = DbManifest.Empty with
        {
            WriterEpoch = 1,
            L0 = l0 ?? [],
            ReplayAfterWalId = replayAfterWalId,
            NextWalId = replayAfterWalId + 1,
            Checkpoints = checkpoints ?? [],
        };
        Assert.That(await Manifests.TryWriteAsync(id, manifest, CancellationToken.None), Is.True);
        return id;
    }

    public async Task PutWalDataAsync(ulong id) => await Objects.PutAsync(WalPaths.PathOf(id), new byte[64], PutMode.CreateIfAbsent);

    public async Task PutWalFenceAsync(ulong id) => await Objects.PutAsync(WalPaths.PathOf(id), WalObjectCodec.EncodeFence(1), PutMode.CreateIfAbsent);

    public async Task PutLeaseAsync(Guid id, ulong manifestId, TimeSpan expiresIn) =>
        await new ReaderLeaseStore(Objects).WriteAsync(new ReaderLease(id, manifestId, NowMs + (long)expiresIn.TotalMilliseconds), CancellationToken.None);

    public GarbageCollector Collector(GcOptions? options = null, Func<IReadOnlySet<SstId>>? pins = null) =>
        new(Store, options ?? new GcOptions(), Time, NullLogger.Instance, pins);

    public async Task<GcReport> CollectAsync(GcOptions? options = null, Func<IReadOnlySet<SstId>>? pins = null)
    {
        var report = await Collector(options, pins).RunOnceAsync(CancellationToken.None);
        TestContext.Out.WriteLine(report);
        return report;
    }

    public async Task<bool> ExistsAsync(ObjectPath path) => await Objects.HeadAsync(path) is not null;

    public async Task<List<string>> PathsAsync(string prefix = "") =>
        await Objects.ListAsync(prefix).Select(i => i.Path.Value).ToListAsync();
}
