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
