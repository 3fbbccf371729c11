namespace SlateSharp.Tests.TestSupport;

/// <summary>A fresh directory under the system temp dir (or a given parent), removed on dispose.</summary>
public sealed class TestDirectory : IDisposable
{
    public TestDirectory(string? parent = null)
    {
        var root = parent ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "slatesharp-tests");
        Path = System.IO.Path.Combine(root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The checkout's root (where SlateSharp.sln is), found above the test output directory.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(directory.FullName, "SlateSharp.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("cannot find SlateSharp.sln above the test output directory");
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
