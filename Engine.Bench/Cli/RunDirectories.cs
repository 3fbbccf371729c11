namespace SlateSharp.Bench.Cli;

/// <summary>
/// A fresh directory per engine, workload and round under one parent (the temp dir unless --dir), each removed when
/// its run is over unless --keep: a later run must never read files a former one left.
/// </summary>
internal sealed class RunDirectories : IDisposable
{
    private readonly string _parent;
    private readonly bool _keep;

    public RunDirectories(string? parent, bool keep)
    {
        _parent = Path.Combine(parent ?? Path.GetTempPath(), $"slatesharp-compare-{Environment.ProcessId}");
        _keep = keep;
    }

    public string For(string engine, string workload, int round)
    {
        var directory = Path.Combine(_parent, $"{engine}-{workload}-r{round}");
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        return directory;
    }

    public void Release(string directory)
    {
        if (!_keep && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public void Dispose()
    {
        if (!_keep && Directory.Exists(_parent))
        {
            Directory.Delete(_parent, recursive: true);
        }
    }
}
