using System.Diagnostics;
using System.Globalization;
using SlateSharp.Storage;
using SlateSharp.Storage.Gcs;
using SlateSharp.Storage.S3;

namespace SlateSharp.Bench.Stores;

/// <summary>
/// Request latency and streaming throughput of one object store, opened from a URL as the engine opens it:
/// sequential small conditional PUTs, HEADs and 4 KiB ranged GETs (the engine's manifest, WAL and block-read pattern),
/// one LIST of them, then one large streamed upload and its read-back in 8 MiB ranges. Cleans up after itself.
/// </summary>
internal static class ObjectStoreBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: SlateSharp.Bench objectstore URL [--requests N] [--large-mib N] [--skip-probe]");
            Console.Error.WriteLine("  s3: endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION");
            Console.Error.WriteLine("  gs: STORAGE_EMULATOR_HOST for an emulator (--skip-probe: the firebase emulator ignores preconditions)");
            return 2;
        }

        var url = args[0].TrimEnd('/') + "/bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var requests = Option(args, "--requests", 200);
        var largeMiB = Option(args, "--large-mib", 256);
        var verify = !args.Contains("--skip-probe");
        var opened = Stopwatch.StartNew();
        var store = await ObjectStores.OpenAsync(url, new ObjectStoreOptions
        {
            S3 = new S3StoreOptions { VerifyConditionalWrites = verify },
            Gcs = new GcsStoreOptions { VerifyConditionalWrites = verify },
        });
        Console.WriteLine($"{url}: opened in {opened.Elapsed.TotalMilliseconds:0} ms (with the conditional-write probe: {verify})");
        using var seen = new Workloads.StoreRequestListener(store.Location);

        var payload = new byte[4096];
        Random.Shared.NextBytes(payload);
        var paths = Enumerable.Range(0, requests).Select(i => ObjectPath.Parse($"small/{i:D6}")).ToArray();
        await MeasureAsync("PUT 4 KiB create-if-absent", paths, async p => await store.PutAsync(p, payload, PutMode.CreateIfAbsent));
        await MeasureAsync("HEAD", paths, async p => await store.HeadAsync(p));
        await MeasureAsync("GET 4 KiB range", paths, async p => await store.GetAsync(p, ByteRange.FromOffset(0, 4096)));
        await MeasureAsync("LIST (one listing)", [ObjectPath.Parse("small/x")], async _ => await store.ListAsync("small/").CountAsync());

        var large = ObjectPath.Parse("large/object.sst");
        var size = (long)largeMiB << 20;
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var upload = Stopwatch.StartNew();
        await store.PutAsync(large, new RandomStream(size), PutMode.Overwrite);
        upload.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Console.WriteLine($"upload {largeMiB} MiB streamed: {upload.Elapsed.TotalSeconds:0.00} s, {size / 1e6 / upload.Elapsed.TotalSeconds:0} MB/s, {allocated / 1e6:0.0} MB allocated");
        var download = Stopwatch.StartNew();
        for (long offset = 0; offset < size; offset += 8 << 20)
        {
            await store.GetAsync(large, ByteRange.FromOffset(offset, 8 << 20));
        }

        download.Stop();
        Console.WriteLine($"download {largeMiB} MiB in 8 MiB ranges: {download.Elapsed.TotalSeconds:0.00} s, {size / 1e6 / download.Elapsed.TotalSeconds:0} MB/s");

        Console.WriteLine("requests seen by the store (each attempt counts; file:// stores opened from a URL are not counted):");
        Console.WriteLine(seen);
        await Parallel.ForEachAsync(paths.Append(large), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (p, ct) => await store.DeleteAsync(p, ct));
        await store.DisposeAsync();
        return 0;
    }

    private static async Task MeasureAsync(string what, ObjectPath[] paths, Func<ObjectPath, Task> operation)
    {
        var latencies = new List<double>(paths.Length);
        foreach (var path in paths)
        {
            var clock = Stopwatch.StartNew();
            await operation(path);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        double At(double q) => latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        Console.WriteLine($"{what}: n={latencies.Count} p50={At(0.5):0.00} ms p90={At(0.9):0.00} ms p99={At(0.99):0.00} ms max={latencies[^1]:0.00} ms");
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>A non-seekable stream of pseudo-random bytes, so nothing can compress or buffer it cheaply.</summary>
    private sealed class RandomStream(long length) : Stream
    {
        private readonly Random _random = new(1);
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            _random.NextBytes(buffer[..n]);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
