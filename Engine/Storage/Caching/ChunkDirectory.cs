using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using SlateSharp.Format;

namespace SlateSharp.Storage.Caching;

/// <summary>A chunk file found by the scan at open.</summary>
internal readonly record struct ScannedChunk(ChunkId Id, long Bytes, DateTime WrittenUtc);

/// <summary>A chunk file's head and some of its pages (<see cref="ChunkDirectory.ReadPages"/>); not <paramref name="Complete"/> when the file's length was not the one expected or it ended early.</summary>
internal sealed record ChunkPages(bool Complete, byte[] Head, byte[] Pages);

/// <summary>
/// The files of a disk cache: <c>objects/{object id}/{chunk}.chunk</c>, temporary files under <c>tmp/</c>, and the lock
/// file <c>.lock</c> held open (exclusively) for as long as the cache is. A chunk is written to a temporary file and
/// renamed into place, so a reader sees a whole file or none; the checksum inside covers a crash that leaves a renamed
/// file whose bytes never reached the disk (no fsync: a lost chunk is only a miss). I/O errors are thrown to the
/// caller, which turns them into misses.
/// </summary>
internal sealed class ChunkDirectory : IDisposable
{
    public const string LockFileName = ".lock";
    private const string ObjectsFolder = "objects";
    private const string TempFolder = "tmp";
    private const string ChunkSuffix = ".chunk";

    private readonly string _objects;
    private readonly string _temp;
    private readonly FileStream _lock;
    private long _tempCounter;

    private ChunkDirectory(string root, FileStream lockFile)
    {
        Root = root;
        _objects = Path.Combine(root, ObjectsFolder);
        _temp = Path.Combine(root, TempFolder);
        _lock = lockFile;
    }

    public string Root { get; }

    /// <summary>
    /// Creates (if needed) and locks <paramref name="root"/>, and deletes temporary files a crash left. Throws
    /// <see cref="ErrorKind.Invalid"/> when another cache holds the lock; other I/O failures are thrown as they come.
    /// </summary>
    public static ChunkDirectory Open(string root)
    {
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(root);
        var lockPath = Path.Combine(root, LockFileName);
        FileStream lockFile;
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; it dies with the process, so a crash
            // never leaves the directory locked.
            lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(lockPath))
        {
            throw Errors.Invalid($"the disk cache directory is in use by another database or process (directory={root} lock={lockPath})", e);
        }

        try
        {
            var directory = new ChunkDirectory(root, lockFile);
            if (Directory.Exists(directory._temp))
            {
                Directory.Delete(directory._temp, recursive: true);
            }

            Directory.CreateDirectory(directory._temp);
            Directory.CreateDirectory(directory._objects);
            return directory;
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>The object id of a cache key: 16 hex digits of its hash (the key itself is in every chunk file, and checked).</summary>
    public static string ObjectIdOf(string key) =>
        XxHash64.Hash(Encoding.UTF8.GetBytes(key)).ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Every chunk file, with its size and write time; files that are not chunk files are deleted.</summary>
    public List<ScannedChunk> Scan()
    {
        var found = new List<ScannedChunk>();
        foreach (var objectDir in new DirectoryInfo(_objects).EnumerateDirectories())
        {
            foreach (var file in objectDir.EnumerateFiles())
            {
                if (file.Name.EndsWith(ChunkSuffix, StringComparison.Ordinal)
                    && long.TryParse(file.Name.AsSpan(0, file.Name.Length - ChunkSuffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    found.Add(new ScannedChunk(new ChunkId(objectDir.Name, index), file.Length, file.LastWriteTimeUtc));
                }
                else
                {
                    file.Delete();
                }
            }
        }

        return found;
    }

    /// <summary>
    /// Reads the first <paramref name="headLength"/> bytes of a chunk file and <paramref name="pagesLength"/> bytes at
    /// <paramref name="pagesOffset"/>, with positional reads of one open handle (the disk is local: they complete from
    /// the page cache or the disk, like the local store's). Null when the file does not exist; a file that is not
    /// <paramref name="fileLength"/> bytes long comes back with <see cref="ChunkPages.Complete"/> false and
    /// nothing read.
    /// </summary>
    public ChunkPages? ReadPages(ChunkId id, long fileLength, int headLength, long pagesOffset, int pagesLength)
    {
        if (OpenForRead(id) is not { } handle)
        {
            return null;
        }

        using (handle)
        {
            if (RandomAccess.GetLength(handle) != fileLength)
            {
                return new ChunkPages(false, [], []);
            }

            var head = new byte[headLength];
            var pages = new byte[pagesLength];
            return new ChunkPages(ReadExactly(handle, head, 0) && ReadExactly(handle, pages, pagesOffset), head, pages);
        }
    }

    /// <summary>
    /// A chunk file's head (<see cref="ChunkFile.HeadLength"/>) and its length, or null when it does not exist. The
    /// head is as long as the file's first bytes say, or shorter when the file ends first.
    /// </summary>
    public (byte[] Head, long FileLength)? ReadHead(ChunkId id)
    {
        if (OpenForRead(id) is not { } handle)
        {
            return null;
        }

        using (handle)
        {
            var fileLength = RandomAccess.GetLength(handle);
            Span<byte> fixedHeader = stackalloc byte[ChunkFile.FixedHeaderLength];
            if (!ReadExactly(handle, fixedHeader, 0))
            {
                return ([], fileLength);
            }

            var head = new byte[Math.Min(fileLength, ChunkFile.HeadLength(fixedHeader))];
            return (ReadExactly(handle, head, 0) ? head : [], fileLength);
        }
    }

    /// <summary>Writes a chunk file atomically (temporary file, then rename over any old one); returns its size.</summary>
    public async ValueTask<long> WriteAsync(ChunkId id, byte[] file, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(_temp, $"{Environment.ProcessId}-{Interlocked.Increment(ref _tempCounter)}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temp, file, cancellationToken).ConfigureAwait(false);
            var target = PathOf(id);
            try
            {
                File.Move(temp, target, overwrite: true);
            }
            catch (DirectoryNotFoundException)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(temp, target, overwrite: true);
            }

            return file.Length;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public void Delete(ChunkId id) => File.Delete(PathOf(id));

    /// <summary>Deletes every chunk file of an object, indexed or not.</summary>
    public void DeleteObject(string objectId)
    {
        var dir = Path.Combine(_objects, objectId);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public void Dispose() => _lock.Dispose();

    private string PathOf(ChunkId id) =>
        Path.Combine(_objects, id.ObjectId, id.Index.ToString(CultureInfo.InvariantCulture) + ChunkSuffix);

    /// <summary>A read handle on a chunk file, or null when it does not exist (a concurrent eviction may delete it meanwhile).</summary>
    private SafeFileHandle? OpenForRead(ChunkId id)
    {
        try
        {
            return File.OpenHandle(PathOf(id), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; false when the file ends first (it shrank).</summary>
    private static bool ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(handle, buffer, offset);
            if (read == 0)
            {
                return false;
            }

            buffer = buffer[read..];
            offset += read;
        }

        return true;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
