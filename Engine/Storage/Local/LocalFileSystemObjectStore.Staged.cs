namespace SlateSharp.Storage.Local;

/// <summary>Puts prepared ahead: the temporary file is written and fsynced first, published later.</summary>
public sealed partial class LocalFileSystemObjectStore
{
    /// <summary>Staging writes and fsyncs the temporary file, leaving the publish to the put.</summary>
    bool IStagingObjectStore.PreparesAhead => true;

    /// <summary>A written, fsynced temporary file in <paramref name="Directory"/>, not yet under any object's name.</summary>
    private sealed record TempFile(string Path, string Directory, FileStat Written);

    /// <summary>
    /// The staged put: the first put to a path in the temporary file's directory publishes the file; a later put (a
    /// retry after an unclear answer, when a rename may already have consumed the file) writes the bytes anew.
    /// </summary>
    private sealed class StagedFile(LocalFileSystemObjectStore store, TempFile temp, ReadOnlyMemory<byte> content) : IStagedPut
    {
        private int _used;

        public ReadOnlyMemory<byte> Content => content;

        public async ValueTask<PutResult> PutAsync(ObjectPath path, PutOptions options, CancellationToken cancellationToken = default)
        {
            var sameDirectory = string.Equals(System.IO.Path.GetDirectoryName(store.FullPath(path)), temp.Directory, StringComparison.Ordinal);
            if (!sameDirectory || options.Mode.Kind != PutModeKind.CreateIfAbsent || Interlocked.Exchange(ref _used, 1) != 0)
            {
                return await store.PutAsync(path, content, options, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                return await store.PublishStagedAsync(temp, path, options.Mode, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                TryDelete(temp.Path);
            }
        }

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _used, 1) == 0)
            {
                TryDelete(temp.Path);
            }

            return ValueTask.CompletedTask;
        }
    }
}
