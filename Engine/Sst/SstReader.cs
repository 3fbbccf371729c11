using System.Buffers;
using SlateSharp.Format;
using SlateSharp.Storage;

namespace SlateSharp.Sst;

/// <summary>
/// Reads one stored SST. Opening costs at most two ranged reads: a suffix read of a guessed size that usually holds
/// the footer, metadata, index and filter, and one more read for whatever part of that tail it missed. After that
/// every data block is one ranged read, unless the <see cref="BlockCache"/> has it. Immutable and thread-safe;
/// iterators are per caller.
/// </summary>
/// <remarks>
/// Every region is checked when it is read: checksums, framing, and the rows of each data block when it is loaded
/// (each row well formed and in internal order, sequences within the metadata's range, the first row after the
/// previous block's last, the last equal to the block's index entry), so a block that passes is one on which
/// seeks are well defined, and a block read never rests on an index that disagrees with it. Every Data error names
/// the object and the store (<see cref="Name"/>).
/// </remarks>
internal sealed class SstReader
{
    /// <summary>How many trailing bytes the first read asks for.</summary>
    public const int DefaultTailReadSize = 64 << 10;

    [ThreadStatic]
    private static BlockIterator? t_verifier; // VerifyRows' walk, one per thread

    private readonly IObjectStore _store;
    private readonly BlockCache? _cache;
    private readonly BlockCache.Source _cacheSource;
    private readonly SstMetadata _metadata;
    private readonly BloomFilter? _filter;
    private readonly ObjectVersion _version; // of the object opened; SSTs are never replaced, so block reads may say so

    private SstReader(IObjectStore store, ObjectPath path, ObjectVersion version, string name, BlockCache? cache, SstMetadata metadata, SstIndex index, BloomFilter? filter, SstInfo info)
    {
        _store = store;
        _version = version;
        Path = path;
        Name = name;
        _cache = cache;
        _cacheSource = cache is null ? default : BlockCache.SourceOf(path.Value);
        _metadata = metadata;
        Index = index;
        _filter = filter;
        Info = info;
    }

    public ObjectPath Path { get; }

    /// <summary>How errors name the object: its path and the store, as <c>compacted/x.sst store=s3://bucket/db</c>.</summary>
    public string Name { get; }

    /// <summary>What the SST holds.</summary>
    public SstInfo Info { get; }

    /// <summary>The block index.</summary>
    public SstIndex Index { get; }

    /// <summary>Managed bytes the reader keeps (index and filter), for a table cache to account.</summary>
    public long MemorySize => Index.Size + (_filter?.Size ?? 0) + Info.FirstKey.Length + Info.LastKey.Length + 256;

    /// <summary>Opens <paramref name="path"/>, reading the last <see cref="DefaultTailReadSize"/> bytes first.</summary>
    public static ValueTask<SstReader> OpenAsync(IObjectStore store, ObjectPath path, BlockCache? cache, CancellationToken cancellationToken = default) =>
        OpenAsync(store, path, cache, DefaultTailReadSize, cancellationToken);

    /// <summary>
    /// Opens <paramref name="path"/>, reading the last <paramref name="tailReadSize"/> bytes first (a caller that knows
    /// the SST's tail size, or that it is small, can make the first read exact). Corruption is an
    /// <see cref="ErrorKind.Data"/> error naming the object, the store and the offset; a missing object too.
    /// </summary>
    public static ValueTask<SstReader> OpenAsync(IObjectStore store, ObjectPath path, BlockCache? cache, int tailReadSize, CancellationToken cancellationToken = default) =>
        OpenAsync(store, path, cache, tailReadSize, withFilter: true, cancellationToken);

    /// <summary>
    /// Opens <paramref name="path"/> for one pass over its rows (a compaction's input): as
    /// <see cref="OpenAsync(IObjectStore, ObjectPath, BlockCache?, CancellationToken)"/>, but without decoding the bloom
    /// filter, which a pass never asks (<see cref="MayContain(ReadOnlySpan{byte})"/> is then always true) and which
    /// would be a copy of up to megabytes per open.
    /// </summary>
    public static ValueTask<SstReader> OpenForPassAsync(IObjectStore store, ObjectPath path, BlockCache? cache, CancellationToken cancellationToken = default) =>
        OpenAsync(store, path, cache, DefaultTailReadSize, withFilter: false, cancellationToken);

    private static async ValueTask<SstReader> OpenAsync(IObjectStore store, ObjectPath path, BlockCache? cache, int tailReadSize, bool withFilter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var name = NameOf(store, path);
        var first = await store.GetAsync(path, ByteRange.Suffix(Math.Max(SstFooter.Length, tailReadSize)), cancellationToken).ConfigureAwait(false)
            ?? throw Errors.Data(name, "sst object not found");
        var size = first.Metadata.Size;
        if (first.Data.Length < SstFooter.Length || first.Offset + first.Data.Length != size)
        {
            throw Errors.Data(name, first.Offset, $"object too short for an sst (size={size})");
        }

        var footer = SstFooter.Read(first.Data.Span[^SstFooter.Length..], size, name);
        if (footer.DataEnd >= first.Offset)
        {
            return Decode(store, path, first.Metadata.Version, cache, first.Data[(int)(footer.DataEnd - first.Offset)..], footer, size, withFilter);
        }

        // The first read missed the front of the tail (a large SST's index). Both parts go into one pooled buffer that
        // lives only while the tail is decoded (decoding copies what the reader keeps): a compaction opens its inputs
        // for the job alone, and a new array per open, of up to a megabyte and more, was large-object-heap garbage.
        var missing = (int)(first.Offset - footer.DataEnd);
        var tailLength = checked((int)(size - footer.DataEnd));
        var buffer = ArrayPool<byte>.Shared.Rent(tailLength);
        try
        {
            var second = await ReadsInto.GetIntoAsync(store, path, footer.DataEnd, buffer.AsMemory(0, missing), cancellationToken).ConfigureAwait(false)
                ?? throw Errors.Data(name, "sst object disappeared while opening");
            if (second.Metadata.Version != first.Metadata.Version || second.Metadata.Size != size || second.Data.Length != missing)
            {
                throw Errors.Data(name, footer.DataEnd, "sst object changed while opening");
            }

            first.Data.Span.CopyTo(buffer.AsSpan(missing));
            return Decode(store, path, first.Metadata.Version, cache, buffer.AsMemory(0, tailLength), footer, size, withFilter);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The object's name in error messages: its path and the store's location.</summary>
    public static string NameOf(IObjectStore store, ObjectPath path) => $"{path.Value} store={store.Location}";

    /// <summary>True unless the bloom filter proves <paramref name="key"/> absent (always true without a filter).</summary>
    public bool MayContain(ReadOnlySpan<byte> key) => _filter?.MayContain(key) ?? true;

    /// <summary>Like <see cref="MayContain(ReadOnlySpan{byte})"/> with a precomputed <see cref="BloomFilter.Hash"/>.</summary>
    public bool MayContain(ulong keyHash) => _filter?.MayContain(keyHash) ?? true;

    /// <summary>
    /// The newest row for <paramref name="key"/> with a sequence at or below <paramref name="maxSequence"/>, or null.
    /// Reads at most one data block; none when the key is outside the SST's range or the filter rules it out.
    /// </summary>
    public ValueTask<RowEntry?> GetAsync(ReadOnlyMemory<byte> key, ulong maxSequence = ulong.MaxValue, CancellationToken cancellationToken = default) =>
        GetAsync(key, _filter is null ? 0 : BloomFilter.Hash(key.Span), maxSequence, cancellationToken);

    /// <summary>
    /// Like <see cref="GetAsync(ReadOnlyMemory{byte}, ulong, CancellationToken)"/> with the key's
    /// <see cref="BloomFilter.Hash"/> computed by the caller, once for every SST a get probes. Completes synchronously,
    /// without allocating, when the block is cached. The row's key is <paramref name="key"/> itself (not a copy) and
    /// its value aliases the immutable block.
    /// </summary>
    public ValueTask<RowEntry?> GetAsync(ReadOnlyMemory<byte> key, ulong keyHash, ulong maxSequence, CancellationToken cancellationToken)
    {
        var span = key.Span;
        if (KeyComparer.CompareKeys(span, Info.FirstKey) < 0 || KeyComparer.CompareKeys(span, Info.LastKey) > 0 || !MayContain(keyHash))
        {
            return default;
        }

        var blockIndex = Index.FindBlock(span, maxSequence);
        if (blockIndex == Index.Count)
        {
            return default;
        }

        var block = ReadLeasedBlockAsync(blockIndex, cancellationToken);
        return block.IsCompletedSuccessfully ? new(Find(block.Result, key, maxSequence)) : FindAfterReadAsync(block, key, maxSequence);
    }

    private static async ValueTask<RowEntry?> FindAfterReadAsync(ValueTask<Block> read, ReadOnlyMemory<byte> key, ulong maxSequence) =>
        Find(await read.ConfigureAwait(false), key, maxSequence);

    /// <summary>The row of a leased block: the lease stays with a row found (the get releases it), and ends here otherwise.</summary>
    private static RowEntry? Find(Block block, ReadOnlyMemory<byte> key, ulong maxSequence)
    {
        var found = FindIn(block, key, maxSequence);
        if (found is null)
        {
            block.Release();
        }

        return found;
    }

    private static RowEntry? FindIn(Block block, ReadOnlyMemory<byte> key, ulong maxSequence) =>
        BlockSearch.TryFind(block, key.Span, maxSequence, out var row)
            ? new RowEntry(key, block.Slice(row.ValueStart, row.ValueLength), row.Sequence, row.Kind, row.ExpireAt)
            : null;

    /// <summary>A new iterator over this SST, unpositioned.</summary>
    public SstIterator CreateIterator() => new(this);

    /// <summary>
    /// A new forward iterator that reads up to <paramref name="readaheadBytes"/> of consecutive blocks per ranged GET and
    /// bypasses the block cache: for compaction, which reads every block once (one GET per 4 KiB block would cost
    /// thousands of requests per SST).
    /// </summary>
    public SstIterator CreateScanIterator(int readaheadBytes) => new(this, readaheadBytes);

    /// <summary>
    /// Reads, verifies and returns block <paramref name="first"/> and the blocks after it that fit in
    /// <paramref name="maxBytes"/> (at least one), with one ranged read and without the block cache.
    /// </summary>
    public async ValueTask<Block[]> ReadBlocksAsync(int first, int maxBytes, CancellationToken cancellationToken = default)
    {
        if ((uint)first >= (uint)Index.Count)
        {
            throw Errors.Internal($"block index out of range (index={first} count={Index.Count} path={Name})");
        }

        var start = Index.OffsetOf(first);
        var last = first;
        while (last + 1 < Index.Count && Index.OffsetOf(last + 1) + Index.LengthOf(last + 1) - start <= maxBytes)
        {
            last++;
        }

        // One pooled buffer per read, each block copied out of it: a new array per read would be large-object-heap
        // garbage (a compaction reads its whole input this way), which only a gen-2 collection frees.
        var length = checked((int)(Index.OffsetOf(last) + Index.LengthOf(last) - start));
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var result = await ReadsInto.GetIntoAsync(_store, Path, _version, start, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false)
                ?? throw Errors.Data(Name, start, "sst object disappeared");
            if (result.Data.Length != length)
            {
                throw Errors.Data(Name, start, $"short block read (wanted={length} got={result.Data.Length})");
            }

            var blocks = new Block[last - first + 1];
            for (var i = 0; i < blocks.Length; i++)
            {
                var offset = Index.OffsetOf(first + i);
                blocks[i] = Block.Decode(result.Data.Slice(checked((int)(offset - start)), Index.LengthOf(first + i)), Name, offset, _metadata.MaxRawBlockLength, BlockMemory.Copy);
                VerifyRows(blocks[i], first + i);
            }

            return blocks;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Returns data block <paramref name="index"/> from the cache, or reads, verifies and caches it; marked escaped
    /// (<see cref="Block.TryEscape"/>), so its bytes are never reused while anything may hold rows of it.
    /// </summary>
    public ValueTask<Block> ReadBlockAsync(int index, CancellationToken cancellationToken = default)
    {
        CheckBlockIndex(index);
        return _cache is not null && _cache.TryGet(_cacheSource, Index.OffsetOf(index), out var cached) && cached.TryEscape()
            ? ValueTask.FromResult(cached)
            : ReadBlockSlowAsync(index, BlockUse.Escape, cancellationToken);
    }

    /// <summary>Like <see cref="ReadBlockAsync"/> for a point lookup: the block comes leased (<see cref="Block.TryLease"/>) instead.</summary>
    private ValueTask<Block> ReadLeasedBlockAsync(int index, CancellationToken cancellationToken)
    {
        CheckBlockIndex(index);
        return _cache is not null && _cache.TryGet(_cacheSource, Index.OffsetOf(index), out var cached) && cached.TryLease()
            ? ValueTask.FromResult(cached)
            : ReadBlockSlowAsync(index, BlockUse.Lease, cancellationToken);
    }

    private void CheckBlockIndex(int index)
    {
        if ((uint)index >= (uint)Index.Count)
        {
            throw Errors.Internal($"block index out of range (index={index} count={Index.Count} path={Name})");
        }
    }

    /// <summary>Decodes an SST's tail as read from <paramref name="version"/> of the object; blocks are read through the store.</summary>
    private static SstReader Decode(IObjectStore store, ObjectPath path, ObjectVersion version, BlockCache? cache, ReadOnlyMemory<byte> tail, SstFooter footer, long size, bool withFilter)
    {
        var name = NameOf(store, path);
        var metadataStart = (int)(footer.MetadataOffset - footer.DataEnd);
        var metadata = SstMetadata.Decode(tail.Span.Slice(metadataStart, footer.MetadataLength), name, footer);
        var index = SstIndex.Decode(
            tail.Span.Slice((int)(metadata.IndexOffset - footer.DataEnd), metadata.IndexLength), name, metadata.IndexOffset, footer.DataEnd, metadata.BlockCount);
        if (!index.LastKeyOf(index.Count - 1).SequenceEqual(metadata.LastKey))
        {
            throw Errors.Data(name, metadata.IndexOffset, "index and metadata disagree on the last key");
        }

        BloomFilter? filter = null;
        if (metadata.HasFilter && withFilter)
        {
            var region = tail.Slice((int)(metadata.FilterOffset - footer.DataEnd), metadata.FilterLength).ToArray();
            filter = BloomFilter.Decode(region, name, metadata.FilterOffset);
        }

        return new SstReader(store, path, version, name, cache, metadata, index, filter, metadata.ToInfo(size, footer.Version));
    }

    private async ValueTask<Block> ReadBlockSlowAsync(int index, BlockUse use, CancellationToken cancellationToken)
    {
        var offset = Index.OffsetOf(index);
        var length = Index.LengthOf(index);
        var memory = _cache is null ? BlockMemory.Copy : BlockMemory.LongLived;
        if (_metadata.Codec == CompressionCodec.None && ReadsInto.ReadsInPlace(_store))
        {
            if (_cache?.Recycler is { } recycler && BlockRecycler.Fits(length))
            {
                // Bound for a cache that reuses evicted blocks' buffers: read into one.
                var reusable = recycler.Rent(length);
                var into = await ReadsInto.GetIntoAsync(_store, Path, _version, offset, reusable.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                return Decoded(into, index, offset, length, BlockMemory.Alias, use, reusable);
            }

            // Uncompressed, and the store reads in place: read straight into the block's own array.
            var own = Block.AllocateArray(length, memory);
            var read = await ReadsInto.GetIntoAsync(_store, Path, _version, offset, own, cancellationToken).ConfigureAwait(false);
            return Decoded(read, index, offset, length, BlockMemory.Alias, use);
        }

        // Otherwise into a pooled buffer, decoded (decompressed or copied) into an array of the block's own: on the
        // pinned object heap when bound for the cache (BlockMemory.LongLived), since an ordinary array would be
        // promoted twice while the cache holds it.
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var read = await ReadsInto.GetIntoAsync(_store, Path, _version, offset, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            return Decoded(read, index, offset, length, memory, use);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Checks, decodes, verifies and caches data block <paramref name="index"/> as read from the store (into
    /// <paramref name="reusable"/>, an array of the cache's recycler, when given), leased or escaped for the caller before
    /// the cache shares it.
    /// </summary>
    private Block Decoded(GetResult? read, int index, long offset, int length, BlockMemory memory, BlockUse use, byte[]? reusable = null)
    {
        var result = read ?? throw Errors.Data(Name, offset, "sst object disappeared");
        if (result.Data.Length != length)
        {
            throw Errors.Data(Name, offset, $"short block read (wanted={length} got={result.Data.Length})");
        }

        var block = Block.Decode(result.Data, Name, offset, _metadata.MaxRawBlockLength, memory);
        if (reusable is not null)
        {
            block.InReusableArray(reusable);
        }

        VerifyRows(block, index);
        var taken = use == BlockUse.Lease ? block.TryLease() : block.TryEscape();
        if (!taken)
        {
            throw Errors.Internal($"a block not yet shared could not be leased (block={index} path={Name})");
        }

        _cache?.Insert(_cacheSource, offset, block);
        return block;
    }

    /// <summary>How the caller of a block read will use it: a get's lease, or rows that may outlive the read.</summary>
    private enum BlockUse
    {
        Lease,
        Escape,
    }

    /// <summary>
    /// Walks every row of a freshly read block once (the iterator checks each row and that each sorts after the one
    /// before it), and checks the block against the rest of the SST: sequences within the metadata's range, the first
    /// row after the previous block's last (or the SST's first key), the last row equal to the index entry. Costs one
    /// decode of each row per block read from the store, small next to the read; cached blocks are not walked again.
    /// </summary>
    private void VerifyRows(Block block, int index)
    {
        // A miss verifies every block it reads: the walk reuses this thread's iterator rather than allocating one.
        var rows = t_verifier ??= new BlockIterator();
        rows.Reset(block);
        try
        {
            VerifyRows(rows, block, index);
        }
        finally
        {
            rows.Detach();
        }
    }

    private void VerifyRows(BlockIterator rows, Block block, int index)
    {
        rows.SeekToFirst();
        var firstKeyMatches = index == 0
            ? rows.Key.SequenceEqual(_metadata.FirstKey)
            : KeyComparer.Compare(Index.LastKeyOf(index - 1), Index.LastSequenceOf(index - 1), rows.Key, rows.Sequence) < 0;
        if (!firstKeyMatches)
        {
            throw Errors.Data(Name, block.Offset, index == 0
                ? "block's first row is not the sst's first key"
                : $"block's first row does not sort after block {index - 1}'s last row in the index (block={index})");
        }

        while (true)
        {
            if (rows.Sequence < _metadata.MinSequence || rows.Sequence > _metadata.MaxSequence)
            {
                throw Errors.Data(Name, block.Offset,
                    $"row sequence outside the sst's range (sequence={rows.Sequence} min={_metadata.MinSequence} max={_metadata.MaxSequence} block={index})");
            }

            if (rows.IsLast)
            {
                break;
            }

            rows.MoveNext();
        }

        if (!rows.Key.SequenceEqual(Index.LastKeyOf(index)) || rows.Sequence != Index.LastSequenceOf(index))
        {
            throw Errors.Data(Name, block.Offset, $"block's last row differs from its index entry (block={index})");
        }
    }
}
