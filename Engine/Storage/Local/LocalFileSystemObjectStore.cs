using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;

namespace SlateSharp.Storage.Local;

/// <summary>
/// An object store in a directory of a local disk, NFS share or FUSE mount (s3fs, gcsfuse). Each object is a file;
/// a put writes a temporary file in the target's directory, fsyncs it, then publishes it under its name with the
/// <see cref="CommitStrategy"/> the store found safe when it opened. Hard links are never required.
/// </summary>
public sealed partial class LocalFileSystemObjectStore : IObjectStore, IDisposable, IStagingObjectStore, IReadIntoObjectStore, IReadKnownVersionObjectStore
{
    private readonly LocalStoreOptions _options;
    private readonly ProbeReport? _probe;
    private readonly ILogger _logger;
    private readonly DirectoryLocks _locks;
    private readonly StrategyMarkers? _markers;
    private readonly ReadHandleCache? _handles;
    private bool _disposed;

    private LocalFileSystemObjectStore(string root, LocalStoreOptions options, ProbeReport? probe, CommitStrategy? strategy, ILogger logger)
    {
        RootDirectory = root;
        _options = options;
        _probe = probe;
        CommitStrategy = strategy;
        _logger = logger;
        _locks = new DirectoryLocks(options.Calls);
        _markers = strategy is { } s ? new StrategyMarkers(s, LocksEnforced ? _locks : null, Location) : null;
        _handles = options.ReadHandleCacheSize > 0 && FileIdentity.FilesystemType(root) is { } type && FilesystemKinds.IsKernelLocal(type)
            ? new ReadHandleCache(options.ReadHandleCacheSize)
            : null;
    }

    /// <summary>
    /// Closes the lock files and the cached read handles the store keeps open; call it when no put or delete is
    /// running. Reads after it fail with <see cref="ErrorKind.Closed"/>.
    /// </summary>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _handles?.Dispose();
        _locks.Dispose();
    }

    /// <inheritdoc/>
    public string Location => "file://" + RootDirectory;

    /// <summary>The absolute directory the store is rooted at.</summary>
    public string RootDirectory { get; }

    /// <summary>How create-if-absent puts are published; null when the store was opened read-only.</summary>
    public CommitStrategy? CommitStrategy { get; }

    /// <summary>True when opened with <see cref="LocalStoreOptions.ReadOnly"/>.</summary>
    public bool ReadOnly => _options.ReadOnly;

    /// <summary>
    /// True when a check-then-rename under an exclusive lock is safe here, which if-version-matches puts need: locks
    /// are enforced and a writer killed inside a rename cannot release its lock first (local disks, FUSE mounts).
    /// </summary>
    public bool SupportsVersionMatch => _probe?.LockedRenameIsSafe ?? false;

    /// <summary>True when exclusive file locks are enforced here (the store then serialises every mutation of a name).</summary>
    private bool LocksEnforced => _probe?.Locking.Works ?? false;

    internal ProbeReport? Probe => _probe;

    /// <summary>Read handles held open; null when reads open a file each (not a kernel-local filesystem).</summary>
    internal int? CachedReadHandles => _handles?.Count;

    /// <summary>
    /// Opens the store rooted at <paramref name="rootDirectory"/> (an absolute path). For writing, creates the
    /// directory if needed, probes which commit strategy is safe there, checks and records it in the directory (a
    /// store of an incompatible strategy there is refused), and removes stale temporary files. Fails with
    /// <see cref="ErrorKind.Invalid"/>, naming the directory and what to do, when the directory cannot hold a store
    /// (a file, a pseudo-filesystem, no permission, read-only) or no strategy is safe (naming every primitive tried);
    /// a reader needs an existing, readable directory.
    /// </summary>
    public static LocalFileSystemObjectStore Open(string rootDirectory, LocalStoreOptions? options = null)
    {
        options ??= new LocalStoreOptions();
        if (!OperatingSystem.IsLinux())
        {
            throw Errors.Invalid($"the local store needs Linux (link, renameat2, flock and statx) (path={rootDirectory})");
        }

        if (string.IsNullOrEmpty(rootDirectory) || !Path.IsPathFullyQualified(rootDirectory))
        {
            throw Errors.Invalid($"the local store needs an absolute directory (path={rootDirectory})");
        }

        if (rootDirectory.Any(char.IsControl))
        {
            throw Errors.Invalid($"the local store directory contains a control character (path={rootDirectory.ReplaceLineEndings(" ")})");
        }

        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<LocalFileSystemObjectStore>();
        var exists = CheckRoot(root, options.ReadOnly || options.OverwritesOnly);
        if (options.ReadOnly || options.OverwritesOnly)
        {
            return new LocalFileSystemObjectStore(root, options, null, null, logger);
        }

        var errno = LocalDirectories.CreateAll(root, out var failed);
        if (errno != 0)
        {
            throw LocalErrors.FromErrno(errno, $"cannot create the store directory {failed}", root, null, LocalAccess.Open);
        }

        ProbeReport probe;
        CommitStrategy strategy;
        try
        {
            probe = CommitProbe.Run(root, options.Calls);
            strategy = ChooseStrategy(root, options, probe) ?? throw NoSafeStrategy(root, options, probe);
        }
        catch (SlateSharpException)
        {
            if (!exists)
            {
                TryDeleteEmptyDirectory(root);
            }

            throw;
        }

        logger.LogInformation(
            "local store {Root}: commit strategy {Strategy} (probe: {Probe})", root, strategy, probe);
        if (strategy == Local.CommitStrategy.LockedRename)
        {
            logger.LogWarning(
                "local store {Root}: no atomic no-replace primitive here; create-if-absent is safe only among processes sharing this mount",
                root);
        }

        var store = new LocalFileSystemObjectStore(root, options, probe, strategy, logger);
        try
        {
            store._markers!.Ensure(root, root);
        }
        catch
        {
            store.Dispose();
            throw;
        }

        store.RemoveStaleTempFiles();
        return store;
    }

    /// <inheritdoc/>
    public ValueTask<ObjectMetadata?> HeadAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var full = FullPath(path);
        var stat = FileIdentity.Stat(full);
        return ValueTask.FromResult(stat is { IsDirectory: false } s ? ToMetadata(path, s) : null);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// On a kernel-local filesystem the read is done in place (a page-cache copy costs less than a thread-pool hop)
    /// through a cached handle (<see cref="ReadHandleCache"/>); elsewhere (FUSE, network shares) every read opens the
    /// file and reads asynchronously. After <see cref="Dispose"/> a read fails with a clean-close error.
    /// </remarks>
    public ValueTask<GetResult?> GetAsync(ObjectPath path, ByteRange range, CancellationToken cancellationToken = default) =>
        Read(path, range, default, cancellationToken);

    /// <inheritdoc/>
    bool IReadIntoObjectStore.ReadsInPlace => true;

    /// <inheritdoc/>
    ValueTask<GetResult?> IReadIntoObjectStore.GetIntoAsync(ObjectPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken)
        => Read(path, ByteRange.FromOffset(offset, destination.Length), destination, cancellationToken);

    /// <inheritdoc/>
    /// <remarks>
    /// Served from a cached handle opened on <paramref name="version"/> without the <c>statx</c> of the path that an
    /// ordinary read makes: the handle is that very file, which this store never writes in place.
    /// </remarks>
    ValueTask<GetResult?> IReadKnownVersionObjectStore.GetKnownVersionIntoAsync(
        ObjectPath path, ObjectVersion version, long offset, Memory<byte> destination, CancellationToken cancellationToken)
        => Read(path, ByteRange.FromOffset(offset, destination.Length), destination, cancellationToken, version);

    /// <summary>
    /// Reads <paramref name="range"/> of <paramref name="path"/> into <paramref name="into"/>, or into a new array when
    /// it is empty; from a cached handle of <paramref name="knownVersion"/> without checking the path, when given.
    /// </summary>
    private ValueTask<GetResult?> Read(ObjectPath path, ByteRange range, Memory<byte> into, CancellationToken cancellationToken, ObjectVersion? knownVersion = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Volatile.Read(ref _disposed))
        {
            return ValueTask.FromException<GetResult?>(Errors.ClosedClean($"the local store was disposed (path={path} store={Location})"));
        }

        return _handles is { } handles
            ? ValueTask.FromResult(ReadCached(handles, path, range, into, knownVersion))
            : ReadOpeningAsync(path, range, into, cancellationToken);
    }

    /// <summary>
    /// Reads through a cached handle, opening (and caching) one when none is there or it went stale; where the bytes go
    /// is <paramref name="into"/>, or a new array when empty. A handle of <paramref name="knownVersion"/> is read
    /// without checking that the path still names it.
    /// </summary>
    private GetResult? ReadCached(ReadHandleCache handles, ObjectPath path, ByteRange range, Memory<byte> into, ObjectVersion? knownVersion)
    {
        if (handles.TryAcquire(path.Value, out var cached))
        {
            try
            {
                if (knownVersion is { } version && version == cached.Metadata.Version)
                {
                    return ReadRange(cached.Handle, cached.FullPath, cached.Metadata, range, into);
                }

                var errno = FileIdentity.TryKey(cached.FullPath, out var now);
                if (errno == 0 && now == cached.Identity)
                {
                    return ReadRange(cached.Handle, cached.FullPath, cached.Metadata, range, into);
                }

                // Replaced, deleted or unreadable: forget the handle, and let a fresh open decide what to return.
                handles.Remove(path.Value, cached);
            }
            finally
            {
                ReadHandleCache.Release(cached);
            }
        }

        var full = FullPath(path);
        if (OpenForRead(full) is not { } handle)
        {
            return null;
        }

        ReadHandleCache.Entry entry;
        try
        {
            var stat = FileIdentity.Stat(handle, full, out var identity);
            entry = new ReadHandleCache.Entry(path.Value, full, handle, identity, ToMetadata(path, stat));
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        var owned = handles.TryAdd(entry);
        try
        {
            return ReadRange(handle, full, entry.Metadata, range, into);
        }
        finally
        {
            if (owned)
            {
                ReadHandleCache.Release(entry);
            }
            else
            {
                handle.Dispose();
            }
        }
    }

    /// <summary>Reads the resolved range with <c>pread</c> (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>).</summary>
    private GetResult ReadRange(SafeFileHandle handle, string full, ObjectMetadata metadata, ByteRange range, Memory<byte> into)
    {
        var (start, length) = range.Resolve(metadata.Size, metadata.Path);
        if (length > Array.MaxLength)
        {
            throw Errors.Invalid($"a single read is limited to {Array.MaxLength} bytes; read in ranges (path={full} length={length})");
        }

        Memory<byte> data = into.IsEmpty ? GC.AllocateUninitializedArray<byte>((int)length) : into[..(int)length];
        var done = 0;
        while (done < data.Length)
        {
            int n;
            try
            {
                n = RandomAccess.Read(handle, data.Span[done..], start + done);
            }
            catch (Exception e) when (LocalErrors.IsIo(e))
            {
                throw LocalErrors.FromException(e, "cannot read object", full, Location, LocalAccess.Read);
            }

            if (n == 0)
            {
                throw Errors.Data(full, start + done, $"object ended early while reading {range}");
            }

            done += n;
        }

        return new GetResult(metadata, start, data);
    }

    /// <summary>Opens <paramref name="full"/> for reading; null when nothing (or a directory) is there.</summary>
    private SafeFileHandle? OpenForRead(string full)
    {
        try
        {
            return File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(full))
        {
            return null;
        }
        catch (Exception e) when (LocalErrors.IsIo(e))
        {
            throw LocalErrors.FromException(e, "cannot open object", full, Location, LocalAccess.Read);
        }
    }

    /// <summary>Opens the file for this read only (no handle cache); where the bytes go is <paramref name="into"/>, or a new array when empty.</summary>
    private async ValueTask<GetResult?> ReadOpeningAsync(ObjectPath path, ByteRange range, Memory<byte> into, CancellationToken cancellationToken)
    {
        var full = FullPath(path);
        if (OpenForRead(full) is not { } handle)
        {
            return null;
        }

        using (handle)
        {
            var stat = FileIdentity.Stat(handle, full);
            var (start, length) = range.Resolve(stat.Size, path);
            if (length > Array.MaxLength)
            {
                throw Errors.Invalid($"a single read is limited to {Array.MaxLength} bytes; read in ranges (path={full} length={length})");
            }

            Memory<byte> data = into.IsEmpty ? new byte[length] : into[..(int)length];
            var done = 0;
            while (done < data.Length)
            {
                int n;
                try
                {
                    n = await RandomAccess.ReadAsync(handle, data[done..], start + done, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (LocalErrors.IsIo(e))
                {
                    throw LocalErrors.FromException(e, "cannot read object", full, Location, LocalAccess.Read);
                }

                if (n == 0)
                {
                    throw Errors.Data(full, start + done, $"object ended early while reading {range}");
                }

                done += n;
            }

            return new GetResult(ToMetadata(path, stat), start, data);
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ObjectMetadata> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var (path, stat) in LocalDirectoryWalker.List(RootDirectory, ObjectPath.ValidatePrefix(prefix)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return ToMetadata(path, stat);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses roots no store can live in (a file, a path through a file, a kernel pseudo-filesystem) and, for a
    /// reader, a missing or unreadable directory. Returns whether the root exists.
    /// </summary>
    private static bool CheckRoot(string root, bool readOnly)
    {
        if (LocalErrors.PseudoFilesystem(root) is { } pseudo)
        {
            throw Errors.Invalid($"cannot open the store: {pseudo.Text} (path={root}). {pseudo.Advice}");
        }

        var errno = FileIdentity.TryStat(root, out var stat);
        if (errno == 0 && !stat.IsDirectory)
        {
            throw Errors.Invalid($"the local store root is a file, not a directory (path={root}). point the store at a directory");
        }

        if (errno == LibC.ENoEnt && readOnly)
        {
            throw Errors.Invalid(
                $"cannot open the store read-only: the directory does not exist (path={root}). check the path, or open it for writing to create it");
        }

        if (errno is not 0 and not LibC.ENoEnt)
        {
            throw LocalErrors.FromErrno(errno, "cannot open the store", root, null, LocalAccess.Open);
        }

        if (readOnly && LocalDirectories.CheckReadable(root) is var unreadable and not 0)
        {
            throw LocalErrors.FromErrno(unreadable, "cannot open the store read-only: cannot read the directory", root, null, LocalAccess.Read);
        }

        return errno == 0;
    }

    private static CommitStrategy? ChooseStrategy(string root, LocalStoreOptions options, ProbeReport probe)
    {
        if (options.ForceCommitStrategy is { } forced)
        {
            if (!probe.Supports(forced))
            {
                throw Errors.Invalid(
                    $"cannot open for writing: the forced commit strategy {forced} does not work here (path={root} probe=\"{probe}\")");
            }

            return forced;
        }

        if (probe.HardLink.Works)
        {
            return Local.CommitStrategy.HardLink;
        }

        if (probe.RenameNoReplace.Works)
        {
            return Local.CommitStrategy.RenameNoReplace;
        }

        return probe.LockedRenameIsSafe && options.AllowLockedRenameFallback ? Local.CommitStrategy.LockedRename : null;
    }

    private static SlateSharpException NoSafeStrategy(string root, LocalStoreOptions options, ProbeReport probe)
    {
        var fallback = options.AllowLockedRenameFallback
            ? $"{probe.Locking.Name}: {probe.Locking.Detail}; {probe.KilledRename.Name}: {probe.KilledRename.Detail}"
            : $"{probe.Locking.Name}: disabled by options (AllowLockedRenameFallback=false)";
        return Errors.Invalid(
            $"cannot open for writing: this filesystem offers no safe way to create an object only if it is absent " +
            $"(path={root}). tried {probe.HardLink.Name}: {probe.HardLink.Detail}; " +
            $"{probe.RenameNoReplace.Name}: {probe.RenameNoReplace.Detail}; {fallback}. " +
            "use s3:// or gs:// to reach the bucket directly, or a filesystem with hard links or renameat2 (ext4, xfs, btrfs)");
    }

    private static void TryDeleteEmptyDirectory(string directory)
    {
        try
        {
            if (!Directory.EnumerateFileSystemEntries(directory).Any())
            {
                Directory.Delete(directory);
            }
        }
        catch (Exception e) when (LocalErrors.IsIo(e))
        {
            // Best effort: the open fails anyway, with the error that matters.
        }
    }

    private static ObjectMetadata ToMetadata(ObjectPath path, FileStat stat) =>
        new(path, stat.Size, stat.Version, stat.Modified);

    private string FullPath(ObjectPath path) => RootDirectory + "/" + path.Value;
}
