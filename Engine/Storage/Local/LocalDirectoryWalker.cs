namespace SlateSharp.Storage.Local;

/// <summary>
/// Walks a store's directory tree in ascending ordinal order of object path. Sorting each directory's entries by
/// name, with '/' appended to sub-directories, yields the global order: "a-c" (a file) sorts before "a/b".
/// Reserved names (temporary files, locks, probes) and names that are not valid object paths are skipped. A directory
/// it cannot read fails the listing (a listing that silently left out a WAL directory would lose data).
/// </summary>
internal static class LocalDirectoryWalker
{
    public static IEnumerable<(ObjectPath Path, FileStat Stat)> List(string root, string prefix)
    {
        var slash = prefix.LastIndexOf('/');
        var relativeDirectory = slash < 0 ? string.Empty : prefix[..slash];
        var start = relativeDirectory.Length == 0 ? root : root + "/" + relativeDirectory;
        return Walk(root, start, relativeDirectory, prefix);
    }

    public static IEnumerable<string> TempFiles(string root)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        return Directory.EnumerateFiles(root, LocalFileSystemObjectStore.TempPrefix + "*", options);
    }

    private static IEnumerable<(ObjectPath, FileStat)> Walk(string root, string directory, string relativeDirectory, string prefix)
    {
        List<(string SortKey, string Name, bool IsDirectory)> entries;
        try
        {
            entries = new DirectoryInfo(directory)
                .EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false })
                .Where(e => !e.Name.StartsWith(ObjectPath.ReservedPrefix, StringComparison.Ordinal))
                .Select(e => e is DirectoryInfo ? (e.Name + "/", e.Name, true) : (e.Name, e.Name, false))
                .ToList();
        }
        catch (DirectoryNotFoundException)
        {
            yield break; // no such directory (or a path through an object): no objects under it
        }
        catch (Exception e) when (LocalErrors.IsIo(e))
        {
            throw LocalErrors.FromException(e, "cannot list directory", directory, "file://" + root, LocalAccess.Read);
        }

        entries.Sort((x, y) => string.CompareOrdinal(x.SortKey, y.SortKey));
        foreach (var (_, name, isDirectory) in entries)
        {
            var relative = relativeDirectory.Length == 0 ? name : relativeDirectory + "/" + name;
            if (isDirectory)
            {
                var asPrefix = relative + "/";
                if (asPrefix.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(asPrefix, StringComparison.Ordinal))
                {
                    foreach (var item in Walk(root, directory + "/" + name, relative, prefix))
                    {
                        yield return item;
                    }
                }

                continue;
            }

            if (!relative.StartsWith(prefix, StringComparison.Ordinal) || !TryParse(relative, out var path))
            {
                continue;
            }

            if (FileIdentity.Stat(directory + "/" + name) is { IsDirectory: false } stat)
            {
                yield return (path, stat);
            }
        }
    }

    private static bool TryParse(string relative, out ObjectPath path)
    {
        try
        {
            path = ObjectPath.Parse(relative);
            return true;
        }
        catch (SlateSharpException)
        {
            path = default;
            return false;
        }
    }
}
