using SlateSharp.Storage;

namespace SlateSharp.Bench.Workloads;

/// <summary>
/// The store a workload runs on: <c>--url</c>, or a new directory under the temp dir that is removed on dispose unless
/// <c>--keep</c>. Its requests are counted through the public <c>slatesharp.store.*</c> instruments
/// (<see cref="StoreRequestListener"/>), as an application would count them.
/// </summary>
internal sealed class BenchStore : IAsyncDisposable
{
    private readonly IObjectStore _opened;
    private readonly string? _tempDirectory;
    private readonly bool _keep;

    private BenchStore(IObjectStore opened, string url, string? tempDirectory, bool keep)
    {
        _opened = opened;
        Url = url;
        _tempDirectory = tempDirectory;
        _keep = keep;
        Store = opened;
        Metrics = new StoreRequestListener(opened.Location);
    }

    public string Url { get; }

    public IObjectStore Store { get; }

    public StoreRequestListener Metrics { get; }

    public static async Task<BenchStore> OpenAsync(string[] args, string tempName)
    {
        var tempDirectory = BenchArgs.Text(args, "--url") is null ? Path.Combine(Path.GetTempPath(), $"{tempName}-{Environment.ProcessId}") : null;
        var url = BenchArgs.Text(args, "--url") ?? "file://" + tempDirectory;
        return new BenchStore(await ObjectStores.OpenAsync(url, new ObjectStoreOptions()), url, tempDirectory, args.Contains("--keep"));
    }

    public async ValueTask DisposeAsync()
    {
        Metrics.Dispose();
        await _opened.DisposeAsync();
        if (_tempDirectory is not null && !_keep && Directory.Exists(_tempDirectory))
        {
            Directory.Delete(_tempDirectory, recursive: true);
        }
    }
}
