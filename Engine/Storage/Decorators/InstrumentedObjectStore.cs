using System.Runtime.CompilerServices;
using SlateSharp.Telemetry;

namespace SlateSharp.Storage.Decorators;

/// <summary>
/// Records every call on the inner store in <see cref="ObjectStoreMetrics"/>: its kind, latency, whether it failed,
/// and the bytes uploaded and downloaded. <see cref="ObjectStores.OpenAsync"/> puts it directly over the backend,
/// under the retrying decorator, so each attempt counts as a request (retries cost money too). One call is one count:
/// a multipart or resumable upload counts as one PUT, a listing as one LIST however many pages it fetched. The same
/// figures go to the <c>slatesharp.store.*</c> instruments of the <see cref="SlateSharpDiagnostics.Name"/> meter.
/// </summary>
internal sealed class InstrumentedObjectStore(IObjectStore inner, ObjectStoreMetrics metrics, TimeProvider time) : IObjectStore, IObjectStoreDecorator, IStagingObjectStore, IReadIntoObjectStore, IReadKnownVersionObjectStore
{
    private readonly StoreTelemetry _telemetry = new(inner.Location);

    public IObjectStore Inner => inner;

    /// <summary>Disposes the inner store (the cloud stores own HTTP clients).</summary>
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    public ObjectStoreMetrics Metrics => metrics;

    public string Location => inner.Location;

    public async ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var failed = true;
        try
        {
            var result = await inner.HeadAsync(path, cancellationToken).ConfigureAwait(false);
            failed = false;
            return result;
        }
        finally
        {
            Record(RequestKind.Head, time.GetElapsedTime(started), failed);
        }
    }

    public async ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var failed = true;
        try
        {
            var result = await inner.GetAsync(path, range, cancellationToken).ConfigureAwait(false);
            AddBytesDown(result?.Data.Length ?? 0);
            failed = false;
            return result;
        }
        finally
        {
            Record(RequestKind.Get, time.GetElapsedTime(started), failed);
        }
    }

    public bool ReadsInPlace => ReadsInto.ReadsInPlace(inner);

    /// <summary>Counts as one GET, as <see cref="GetAsync"/> does.</summary>
    public ValueTask<GetResult?> GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        CountGetIntoAsync(path, null, offset, destination, cancellationToken);

    /// <summary>Counts as one GET, as <see cref="GetAsync"/> does.</summary>
    public ValueTask<GetResult?> GetKnownVersionIntoAsync(ObjectPath path, ObjectVersion version, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        CountGetIntoAsync(path, version, offset, destination, cancellationToken);

    private async ValueTask<GetResult?> CountGetIntoAsync(ObjectPath path, ObjectVersion? knownVersion, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var failed = true;
        try
        {
            var result = await ReadsInto.GetIntoAsync(inner, path, knownVersion, offset, destination, cancellationToken).ConfigureAwait(false);
            AddBytesDown(result?.Data.Length ?? 0);
            failed = false;
            return result;
        }
        finally
        {
            Record(RequestKind.Get, time.GetElapsedTime(started), failed);
        }
    }

    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        CountPutAsync(content.Length, ct => inner.PutAsync(path, content, options, ct), cancellationToken);

    public bool PreparesAhead => StagedPuts.PreparesAhead(inner);

    /// <summary>Preparing is not a request; the put made from it counts as one PUT, as a plain put does.</summary>
    public async ValueTask<IStagedPut> StageAsync(ObjectPath near, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        new DecoratedStagedPut(
            await StagedPuts.StageAsync(inner, near, content, cancellationToken).ConfigureAwait(false),
            (staged, path, options, ct) => CountPutAsync(staged.Content.Length, c => staged.PutAsync(path, options, c), ct));

    private async ValueTask<PutResult> CountPutAsync(int bytes, Func<CancellationToken, ValueTask<PutResult>> put, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var failed = true;
        try
        {
            var result = await put(cancellationToken).ConfigureAwait(false);
            AddBytesUp(bytes);
            failed = false;
            return result;
        }
        finally
        {
            Record(RequestKind.Put, time.GetElapsedTime(started), failed);
        }
    }

    public async ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var failed = true;
        var counted = new CountingReadStream(content);
        try
        {
            var result = await inner.PutAsync(path, counted, options, cancellationToken).ConfigureAwait(false);
            failed = false;
            return result;
        }
        finally
        {
            AddBytesUp(counted.BytesRead);
            Record(RequestKind.Put, time.GetElapsedTime(started), failed);
        }
    }

    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Counted when the listing ends: ran out, failed, or the caller stopped early (not a failure).
        var started = time.GetTimestamp();
        var failed = false;
        var enumerator = inner.ListAsync(prefix, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch
                {
                    failed = true;
                    throw;
                }

                if (!more)
                {
                    yield break;
                }

                yield return enumerator.Current;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
            Record(RequestKind.List, time.GetElapsedTime(started), failed);
        }
    }

    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        var failed = true;
        try
        {
            await inner.DeleteAsync(path, cancellationToken).ConfigureAwait(false);
            failed = false;
        }
        finally
        {
            Record(RequestKind.Delete, time.GetElapsedTime(started), failed);
        }
    }

    private void Record(RequestKind kind, TimeSpan elapsed, bool failed)
    {
        metrics.Record(kind, elapsed, failed);
        _telemetry.Request(kind, elapsed, failed);
    }

    private void AddBytesUp(long n)
    {
        metrics.AddBytesUp(n);
        _telemetry.BytesUp(n);
    }

    private void AddBytesDown(long n)
    {
        metrics.AddBytesDown(n);
        _telemetry.BytesDown(n);
    }

    /// <summary>Passes reads through and counts the bytes; seeking (for a replayed upload) is passed through too.</summary>
    private sealed class CountingReadStream(Stream inner) : Stream
    {
        private long _bytesRead;

        public long BytesRead => Interlocked.Read(ref _bytesRead);

        public override bool CanRead => true;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Counted(int n)
        {
            Interlocked.Add(ref _bytesRead, n);
            return n;
        }
    }
}
