using System.Diagnostics;
using System.Text;
using SlateSharp.Storage;
using SlateSharp.Storage.Gcs;

namespace SlateSharp.Tests.Storage.Gcs;

/// <summary>
/// Opens a <c>gs://</c> store in a process of its own, for what depends on the process environment and on state the
/// Google libraries keep per process (Application Default Credentials are looked up once and cached, and
/// <c>STORAGE_EMULATOR_HOST</c> is read from the environment): <c>dotnet SlateSharp.Tests.dll gcs-store-child URL
/// [ENDPOINT]</c> opens the store, creates <c>child/object</c> and reads it back, and prints <c>stored VERSION</c> and
/// <c>read TEXT</c>, or <c>error KIND: MESSAGE</c> for an engine error. Exit 0 unless something else was thrown (3).
/// </summary>
internal static class GcsStoreChild
{
    public const string Verb = "gcs-store-child";

    public static int Run(string url, string? endpoint)
    {
        try
        {
            RunAsync(url, endpoint).GetAwaiter().GetResult();
            return 0;
        }
        catch (SlateSharpException e)
        {
            Console.WriteLine($"error {e.Kind}: {e.Message}");
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine($"crash {e.GetType().Name}: {e}");
            return 3;
        }
    }

    private static async Task RunAsync(string url, string? endpoint)
    {
        var options = new ObjectStoreOptions
        {
            Gcs = new GcsStoreOptions { Endpoint = endpoint is null ? null : new Uri(endpoint), RequestTimeout = TimeSpan.FromSeconds(10) },
            Retry = new RetryOptions { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(10) },
        };
        var store = await ObjectStores.OpenAsync(url, options);
        try
        {
            var path = ObjectPath.Parse("child/object");
            var put = await store.PutAsync(path, "written by the child"u8.ToArray(), PutMode.CreateIfAbsent);
            Console.WriteLine($"stored {put.Version}");
            var got = await store.GetAsync(path, ByteRange.All);
            Console.WriteLine($"read {Encoding.UTF8.GetString(got!.Data.Span)}");
        }
        finally
        {
            await store.DisposeAsync();
        }
    }

    /// <summary>
    /// Runs the child with <paramref name="environment"/> set (a null value removes the variable) and returns its exit
    /// code and output; fails the test when it does not exit within a minute.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> StartAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(typeof(GcsStoreChild).Assembly.Location);
        info.ArgumentList.Add(Verb);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail($"the gcs child did not exit within a minute: {await output}{await errors}");
        }

        return (process.ExitCode, (await output) + (await errors));
    }
}
