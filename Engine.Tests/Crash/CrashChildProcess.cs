using System.Collections.Concurrent;
using System.Diagnostics;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// A running crash child: this test assembly started again with the <see cref="CrashChild.Verb"/> verb, by the same
/// dotnet host. Kills are SIGKILL (<see cref="Process.Kill()"/> on Linux), which no code in the child sees coming.
/// </summary>
internal sealed class CrashChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _output = new();

    private CrashChildProcess(Process process) => _process = process;

    /// <summary>Completes when the child printed "opened" (its database is open).</summary>
    public Task Opened => _opened.Task;

    public int Pid => _process.Id;

    /// <summary>The last <see cref="OutputLines"/> lines the child printed (stdout and stderr, its engine log), for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    private const int OutputLines = 80;

    public static CrashChildProcess Start(CrashChildArgs args, string? crashPoint) => Start(args.ToArguments(), crashPoint);

    /// <summary>
    /// A compactor of the database at <paramref name="url"/> in its own process (<see cref="CompactorChild"/>); for an
    /// <c>s3://</c> URL, <paramref name="s3Endpoint"/> is passed as <c>AWS_ENDPOINT_URL</c> with the test credentials.
    /// </summary>
    public static CrashChildProcess StartCompactor(string url, string? crashPoint, string? s3Endpoint) =>
        Start([CompactorChild.Verb, url], crashPoint, s3Endpoint is null ? [] :
        [
            ("AWS_ENDPOINT_URL", s3Endpoint), ("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "testsecret"), ("AWS_REGION", "us-east-1"),
        ]);

    private static CrashChildProcess Start(IReadOnlyList<string> arguments, string? crashPoint, IReadOnlyList<(string Name, string Value)>? environment = null)
    {
        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(CrashChild).Assembly.Location);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment[CrashChildArgs.CrashPointVariable] = crashPoint ?? string.Empty;
        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new CrashChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            child.Keep(e.Data);
            if (e.Data == "opened")
            {
                child._opened.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child.Keep(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Keep(string line)
    {
        _output.Enqueue(line);
        while (_output.Count > OutputLines && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>Waits for the child to exit on its own (or be killed); false when it did not within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code: 137 (128 + SIGKILL) for a killed child.</summary>
    public int ExitCode => _process.ExitCode;

    public bool Killed => ExitCode == 128 + 9;

    /// <summary>SIGKILL, then waits until the process is gone (its file handles closed).</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }

        await _process.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
