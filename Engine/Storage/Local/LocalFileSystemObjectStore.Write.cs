using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

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

        using (await LockIfSupportedAsync(directory, path, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                File.Delete(full);
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Errors.Unavailable($"cannot delete object: {e.Message} (path={full})", e);
            }
        }

        SyncDirectory(directory);
    }

    private async ValueTask<PutResult> PutCoreAsync(
        ObjectPath path, PutMode mode, Func<FileStream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        EnsureWritable(path);
        if (mode.Kind == PutModeKind.IfVersionMatches && !SupportsVersionMatch)
        {
            throw Errors.Invalid(
                $"if-version-matches needs exclusive file locks, which this filesystem does not enforce (path={RootDirectory} probe=\"{_probe}\")");
        }

        var full = FullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        CreateDirectory(directory, full);
        var temp = Path.Combine(directory, TempPrefix + RandomNumberGenerator.GetHexString(16, lowercase: true));
        try
        {
            var version = await WriteTempAsync(temp, write, cancellationToken).ConfigureAwait(false);
            await StepAsync(CommitStep.TempWritten, path).ConfigureAwait(false);
            var (outcome, publishedVersion) = await PublishAsync(temp, full, directory, mode, path, cancellationToken).ConfigureAwait(false);
            await StepAsync(CommitStep.Published, path).ConfigureAwait(false);
            if (outcome != PutOutcome.Stored)
            {
                return new PutResult(outcome, null);
            }

            SyncDirectory(directory);
            return PutResult.StoredAs(publishedVersion ?? version);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    private async ValueTask<ObjectVersion> WriteTempAsync(
        string temp, Func<FileStream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            await using (stream.ConfigureAwait(false))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                File.SetLastWriteTimeUtc(stream.SafeFileHandle, FileIdentity.NextUniqueTimestamp(_options.TimeProvider));
                stream.Flush(flushToDisk: true);
                return FileIdentity.Stat(stream.SafeFileHandle, temp).Version;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Errors.Unavailable($"cannot write temporary file: {e.Message} (path={temp})", e);
        }
    }

    /// <summary>
    /// Publishes the temporary file. Link and renameat2 keep the inode, so the temporary file's version stands; a
    /// locked rename re-reads the version under the lock, since some filesystems (s3fs) give the renamed file a new
    /// inode.
    /// </summary>
    private async ValueTask<(PutOutcome Outcome, ObjectVersion? Version)> PublishAsync(
        string temp, string full, string directory, PutMode mode, ObjectPath path, CancellationToken cancellationToken)
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
                _ => throw Errors.Unavailable($"cannot publish object with {CommitStrategy}: {LibC.Describe(errno)} (path={full})"),
            };
        }

        using (await LockIfSupportedAsync(directory, path, cancellationToken).ConfigureAwait(false))
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
            if (outcome == PutOutcome.Stored)
            {
                var errno = _options.Calls.Rename(temp, full);
                if (errno != 0)
                {
                    throw Errors.Unavailable($"cannot publish object: rename failed: {LibC.Describe(errno)} (path={full})");
                }

                return (outcome, FileIdentity.Stat(full)?.Version);
            }

            return (outcome, null);
        }
    }

    private async ValueTask<IDisposable?> LockIfSupportedAsync(string directory, ObjectPath path, CancellationToken cancellationToken) =>
        SupportsVersionMatch
            ? await _locks.AcquireAsync(directory, path.Name, cancellationToken).ConfigureAwait(false)
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

    private static void CreateDirectory(string directory, string full)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (IOException e)
        {
            throw Errors.Invalid($"the object path runs through an existing object; a local directory cannot hold both (path={full})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Errors.Unavailable($"cannot create directory: {e.Message} (path={directory})", e);
        }
    }

    private static void SyncDirectory(string directory)
    {
        var fd = LibC.Open(directory, LibC.ORdOnly | LibC.ODirectory | LibC.OCloExec, 0);
        if (fd < 0)
        {
            return;
        }

        try
        {
            _ = LibC.Fsync(fd);
        }
        finally
        {
            _ = LibC.Close(fd);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the stale temporary file cleanup.
        }
    }

    private void RemoveStaleTempFiles()
    {
        var cutoff = _options.TimeProvider.GetUtcNow() - _options.StaleTempFileAge;
        var removed = 0;
        foreach (var temp in LocalDirectoryWalker.TempFiles(RootDirectory))
        {
            if (File.GetLastWriteTimeUtc(temp) < cutoff.UtcDateTime)
            {
                TryDelete(temp);
                removed++;
            }
        }

        if (removed > 0)
        {
            _logger.LogInformation("local store {Root}: removed {Count} stale temporary files", RootDirectory, removed);
        }
    }
}
