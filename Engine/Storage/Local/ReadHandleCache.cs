using Microsoft.Win32.SafeHandles;

namespace SlateSharp.Storage.Local;

/// <summary>
/// Open read handles of recently read objects, least recently used dropped first, so a ranged read of an SST block
/// costs a <c>statx</c> of the path and a <c>pread</c> instead of an open, an <c>fstat</c>, a read and a close.
/// </summary>
/// <remarks>
/// A handle is only a shortcut to a file that was at the path: the store checks before every read that what is at
/// the path now has the entry's <see cref="FileKey"/> (device, inode, size, modification time). While the cache holds
/// the file open its inode cannot be reused, so a match means the very same file, and an object deleted and stored
/// again at the path (a new inode) is never served from the old handle. Only used on kernel-local filesystems
/// (<see cref="FilesystemKinds.IsKernelLocal"/>), where that holds.
/// <para>
/// Handles are reference-counted (<c>SafeHandle.DangerousAddRef</c> under the lock), so an entry evicted or
/// invalidated while another thread reads through it is closed when that read releases it, never under it. A handle
/// of a file deleted by another process stays open (and its disk space allocated) until the entry is read again,
/// evicted or the store is disposed: at most <c>capacity</c> files.
/// </para>
/// </remarks>
internal sealed class ReadHandleCache(int capacity) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private bool _disposed;

    /// <summary>Handles held (tests).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>
    /// The entry for <paramref name="key"/> with its handle referenced for the caller, who must <see cref="Release"/>
    /// it; false when there is none (or the cache is disposed).
    /// </summary>
    public bool TryAcquire(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Entry? entry)
    {
        lock (_lock)
        {
            if (!_disposed && _entries.TryGetValue(key, out entry))
            {
                var added = false;
                entry.Handle.DangerousAddRef(ref added);
                if (entry.Node.Previous is not null)
                {
                    _recency.Remove(entry.Node);
                    _recency.AddFirst(entry.Node);
                }

                return true;
            }
        }

        entry = null;
        return false;
    }

    /// <summary>
    /// Hands <paramref name="entry"/> (freshly opened) to the cache and references its handle for the caller, who must
    /// <see cref="Release"/> it. False when the cache does not take it (another thread cached the key first, or the
    /// cache is disposed): the caller still owns the handle and disposes it after its read.
    /// </summary>
    public bool TryAdd(Entry entry)
    {
        Entry? evicted = null;
        lock (_lock)
        {
            if (_disposed || _entries.ContainsKey(entry.Key) || capacity <= 0)
            {
                return false;
            }

            var added = false;
            entry.Handle.DangerousAddRef(ref added);
            _entries.Add(entry.Key, entry);
            _recency.AddFirst(entry.Node);
            if (_entries.Count > capacity && _recency.Last is { } oldest)
            {
                evicted = oldest.Value;
                Unlink(evicted);
            }
        }

        // Dispose outside the lock: the last reference closes the file, a syscall others need not wait for.
        evicted?.Handle.Dispose();
        return true;
    }

    /// <summary>Drops the reference <see cref="TryAcquire"/> or <see cref="TryAdd"/> took.</summary>
    public static void Release(Entry entry) => entry.Handle.DangerousRelease();

    /// <summary>Drops the entry for <paramref name="key"/>, if it is <paramref name="only"/> (or any, when null).</summary>
    public void Remove(string key, Entry? only = null)
    {
        Entry? removed = null;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var found) && (only is null || ReferenceEquals(found, only)))
            {
                removed = found;
                Unlink(found);
            }
        }

        removed?.Handle.Dispose();
    }

    /// <summary>Closes every handle (those in use close when their reads release them); later adds are refused.</summary>
    public void Dispose()
    {
        List<Entry> all;
        lock (_lock)
        {
            _disposed = true;
            all = [.. _entries.Values];
            _entries.Clear();
            _recency.Clear();
        }

        foreach (var entry in all)
        {
            entry.Handle.Dispose();
        }
    }

    private void Unlink(Entry entry)
    {
        _entries.Remove(entry.Key);
        _recency.Remove(entry.Node);
    }

    /// <summary>One open file: the handle, the path it was opened by, its identity then and the metadata reads report.</summary>
    internal sealed class Entry
    {
        public Entry(string key, string fullPath, SafeFileHandle handle, FileKey identity, ObjectMetadata metadata)
        {
            Key = key;
            FullPath = fullPath;
            Handle = handle;
            Identity = identity;
            Metadata = metadata;
            Node = new LinkedListNode<Entry>(this);
        }

        public string Key { get; }

        public string FullPath { get; }

        public SafeFileHandle Handle { get; }

        public FileKey Identity { get; }

        public ObjectMetadata Metadata { get; }

        public LinkedListNode<Entry> Node { get; }
    }
}
