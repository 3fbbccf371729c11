using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace SlateSharp.Storage.Local;

/// <summary>Puts and deletes: write a temporary file, fsync, publish by the chosen strategy, fsync the directory.</summary>
public sealed partial class LocalFileSystemObjectStore
{
    internal const string TempPrefix = ObjectPath.ReservedPrefix + "-tmp-";
    private const int CopyBufferSize = 1 << 20;

    /// <inheritdoc/>
    public ValueTask<PutResult> PutAsync(ObjectPath path, ReadOnlyMemory<byte> content, PutOptions options, CancellationToken cancellationToken = default) =>
        PutCoreAsync(path, options.Mode, (stream, ct) => stream.WriteAsync(content, ct), cancellationToken);

    /// <inheritdoc/>
    public ValueTask<PutResult> PutAsync(ObjectPath path, Stream content, PutOptions options, CancellationToken cancellationToken = default) =>
        PutCoreAsync(path, options.Mode, (stream, ct) => new ValueTask(content.CopyToAsync(stream, CopyBufferSize, ct)), cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DeleteAsync(ObjectPath path, CancellationToken cancellationToken = default)
    {
        EnsureWritable(path);
        var full = FullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            return;
        }

        using (await LockIfSupportedAsync(directory, path, full, cancellationToken).ConfigureAwait(false))
        {
            if (LibC.Unlink(full) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is LibC.ENoEnt or LibC.ENotDir or LibC.EIsDir)
                {
                    return; // nothing there, or a directory of objects: no object to delete
                }

                throw LocalErrors.FromErrno(errno, "cannot delete object", full, Location, LocalAccess.Write);
            }
        }

        _handles?.Remove(path.Value); // not needed for correctness (reads check the identity): frees the file now
        LocalDirectories.Sync(directory, full, Location, "deleted");
    }

    private async ValueTask<PutResult> PutCoreAsync(
        ObjectPath path, PutMode mode, Func<FileStream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        var temp = await WriteStagedAsync(path, mode, write, cancellationToken).ConfigureAwait(false);
        try
        {
            return await PublishStagedAsync(temp, path, mode, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            TryDelete(temp.Path);
        }
    }

    /// <summary>
    /// Writes and fsyncs the temporary file a put of <paramref name="content"/> near <paramref name="near"/> will
    /// publish, so the WAL can prepare its next object while the one before it is published. Only the first put made
    /// from it publishes the file; a retry, or a put to another directory, writes the bytes again.
    /// </summary>
    async ValueTask<IStagedPut> IStagingObjectStore.StageAsync(ObjectPath near, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var temp = await WriteStagedAsync(near, PutMode.CreateIfAbsent, (stream, ct) => stream.WriteAsync(content, ct), cancellationToken).ConfigureAwait(false);
        return new StagedFile(this, temp, content);
    }

    /// <summary>Checks the put, creates its directory and writes the temporary file; nothing is visible yet.</summary>
    private async ValueTask<TempFile> WriteStagedAsync(
        ObjectPath path, PutMode mode, Func<FileStream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        EnsureWritable(path);
        if (_markers is null && mode.IsConditional)
        {
            throw Errors.Invalid(
                $"the store was opened without a commit strategy (for overwrites only, as a reader opens it), so it cannot put {mode.Kind} (path={RootDirectory}/{path})");
        }

        if (mode.Kind == PutModeKind.IfVersionMatches && !SupportsVersionMatch)
        {
            throw Errors.Invalid(
                $"if-version-matches needs exclusive file locks that a killed writer cannot release before its rename settled, which this filesystem does not offer (path={RootDirectory} probe=\"{_probe}\"). " +
                "keep such objects on a local disk or FUSE mount, or use s3:// or gs://");
        }

        var full = FullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        CreateObjectDirectory(directory, full);
        if (_markers is not null)
        {
            await _markers.EnsureAsync(directory, full, cancellationToken).ConfigureAwait(false);
        }
        var temp = Path.Combine(directory, TempPrefix + RandomNumberGenerator.GetHexString(16, lowercase: true));
        try
        {
            var written = await WriteTempAsync(temp, full, write, cancellationToken).ConfigureAwait(false);
            await StepAsync(CommitStep.TempWritten, path).ConfigureAwait(false);
            return new TempFile(temp, directory, written);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Publishes a written temporary file at <paramref name="path"/> (in its directory) and fsyncs the directory.</summary>
    private async ValueTask<PutResult> PublishStagedAsync(TempFile temp, ObjectPath path, PutMode mode, CancellationToken cancellationToken)
    {
        var full = FullPath(path);
        var (outcome, publishedVersion) = await PublishAsync(temp.Path, temp.Written, full, temp.Directory, mode, path, cancellationToken).ConfigureAwait(false);
        await StepAsync(CommitStep.Published, path).ConfigureAwait(false);
        if (outcome != PutOutcome.Stored)
        {
            return new PutResult(outcome, null);
        }

        _handles?.Remove(path.Value); // the old file's handle, if any, can never be used again
        LocalDirectories.Sync(temp.Directory, full, Location, "published");
        return PutResult.StoredAs(publishedVersion ?? temp.Written.Version);
    }

    /// <summary>Creates, fsyncs and stamps the temporary file; returns its size, version and the unique time it was given.</summary>
    private async ValueTask<FileStat> WriteTempAsync(
        string temp, string full, Func<FileStream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        var fd = LibC.Open(temp, LibC.OWrOnly | LibC.OCreat | LibC.OExcl | LibC.OCloExec, 0b110_100_100);
        if (fd < 0)
        {
            throw LocalErrors.FromErrno(Marshal.GetLastPInvokeError(), "cannot create a temporary file for the object", full, Location, LocalAccess.Write);
        }

        try
        {
            var stream = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
            await using (stream.ConfigureAwait(false))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                var stamp = FileIdentity.NextUniqueTimestamp(_options.TimeProvider);
                File.SetLastWriteTimeUtc(stream.SafeFileHandle, stamp);
                stream.Flush(flushToDisk: true);

                // The time set, not the one fstat reports: s3fs answers fstat on an open file in whole seconds.
                return FileIdentity.Stat(stream.SafeFileHandle, temp) with { Modified = new DateTimeOffset(stamp, TimeSpan.Zero) };
            }
        }
        catch (Exception e) when (LocalErrors.IsIoOrFileTooLarge(e))
        {
            throw LocalErrors.FromException(e, $"cannot write the temporary file {temp} for the object", full, Location, LocalAccess.Write);
        }
    }

    /// <summary>
    /// Publishes the temporary file. Link and renameat2 keep the inode, so the temporary file's version stands. A
    /// rename under the lock reads the published file back before the lock is released: it must have the size and the
    /// unique modification time the temporary file was given (s3fs gives it a new inode, so the version is re-read
    /// too). Anything else means the name is being written by someone the lock does not reach, and the outcome is
    /// unknown. After a failed rename the temporary file is removed while the lock is still held, so that nothing can
    /// start copying it under the name once the next writer has checked that the name is absent.
    /// </summary>
    private async ValueTask<(PutOutcome Outcome, ObjectVersion? Version)> PublishAsync(
        string temp, FileStat written, string full, string directory, PutMode mode, ObjectPath path, CancellationToken cancellationToken)
    {
        if (mode.Kind == PutModeKind.CreateIfAbsent && CommitStrategy != Local.CommitStrategy.LockedRename)
        {
            var errno = CommitStrategy == Local.CommitStrategy.HardLink
                ? _options.Calls.Link(temp, full)
                : _options.Calls.RenameNoReplace(temp, full);
            return errno switch
            {
                0 => (PutOutcome.Stored, null),
                LibC.EExist => (PutOutcome.AlreadyExists, null),
                _ => throw LocalErrors.FromErrno(errno, $"cannot publish object with {CommitStrategy}", full, Location, LocalAccess.Write),
            };
        }

        using (await LockIfSupportedAsync(directory, path, full, cancellationToken).ConfigureAwait(false))
        {
            await StepAsync(CommitStep.LockAcquired, path).ConfigureAwait(false);
            var current = FileIdentity.Stat(full);
            var outcome = mode.Kind switch
            {
                PutModeKind.CreateIfAbsent when current is not null => PutOutcome.AlreadyExists,
                PutModeKind.IfVersionMatches when current?.Version != mode.ExpectedVersion => PutOutcome.VersionMismatch,
                _ => PutOutcome.Stored,
            };
            await StepAsync(CommitStep.ConditionChecked, path).ConfigureAwait(false);
            if (outcome != PutOutcome.Stored)
            {
                return (outcome, null);
            }

            var errno = _options.Calls.Rename(temp, full);
            if (errno != 0)
            {
                TryDelete(temp);
                throw LocalErrors.FromErrno(
                    errno, $"cannot publish object with {CommitStrategy}: rename failed, so the object may or may not be stored", full, Location, LocalAccess.Write);
            }

            var published = FileIdentity.Stat(full);
            if (LocksEnforced && (published is not { IsDirectory: false } p || p.Size != written.Size || p.Modified != written.Modified))
            {
                throw Errors.Unavailable(
                    $"published object by rename, but the file now under its name is not the one written (found size={published?.Size} " +
                    $"modified={published?.Modified:O}, wrote size={written.Size} modified={written.Modified:O}): a writer this store's lock " +
                    $"does not reach (another machine or another mount) may be writing here, so the outcome is unknown (path={full} store={Location}). " +
                    "run every writer of this directory through one mount, or use s3:// or gs:// directly");
            }

            return (outcome, published?.Version);
        }
    }

    private async ValueTask<IDisposable?> LockIfSupportedAsync(string directory, ObjectPath path, string full, CancellationToken cancellationToken) =>
        LocksEnforced
            ? await _locks.AcquireAsync(directory, path.Name, full, Location, cancellationToken).ConfigureAwait(false)
            : null;

    private ValueTask StepAsync(CommitStep step, ObjectPath path) =>
        _options.StepHook is { } hook ? hook(step, path) : ValueTask.CompletedTask;

    private void EnsureWritable(ObjectPath path)
    {
        if (ReadOnly)
        {
            throw Errors.Invalid($"the store was opened read-only (path={RootDirectory}/{path})");
        }
    }

    private void CreateObjectDirectory(string directory, string full)
    {
        var errno = LocalDirectories.CreateAll(directory, out var failed);
        if (errno == LibC.ENotDir && failed.StartsWith(RootDirectory + "/", StringComparison.Ordinal))
        {
            throw Errors.Invalid($"the object path runs through an existing object; a local directory cannot hold both (path={full} store={Location})");
        }

        if (errno != 0)
        {
            throw LocalErrors.FromErrno(errno, $"cannot create directory {failed}", full, Location, LocalAccess.Write);
        }
    }

    private static void TryDelete(string path)
    {
        _ = LibC.Unlink(path); // left for the stale temporary file cleanup if it fails
    }

    /// <summary>Best effort: a directory it cannot walk or a file it cannot remove is logged and left.</summary>
    private void RemoveStaleTempFiles()
    {
        var cutoff = _options.TimeProvider.GetUtcNow() - _options.StaleTempFileAge;
        var removed = 0;
        try
        {
            foreach (var temp in LocalDirectoryWalker.TempFiles(RootDirectory))
            {
                if (FileIdentity.TryStat(temp, out var stat) == 0 && stat.Modified < cutoff && LibC.Unlink(temp) == 0)
                {
                    removed++;
                }
            }
        }
        catch (Exception e) when (LocalErrors.IsIo(e))
        {
            _logger.LogWarning(e, "local store {Root}: could not look for stale temporary files", RootDirectory);
        }

        if (removed > 0)
        {
            _logger.LogInformation("local store {Root}: removed {Count} stale temporary files", RootDirectory, removed);
        }
    }
}
