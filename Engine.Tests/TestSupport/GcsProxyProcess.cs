using System.Globalization;
using System.Runtime.InteropServices;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Runs <see cref="GcsPreconditionProxy"/> as a process of its own, so that something outside the tests (the bench)
/// can use the emulator with generation preconditions enforced, and the GCS store's conditional-write probe passes
/// for the right reason: <c>dotnet SlateSharp.Tests.dll gcs-proxy UPSTREAM [PORT]</c>. It prints its endpoint, serves
/// until SIGINT or SIGTERM, then prints the HTTP requests it received by kind, one <c>requests KIND: N</c> line each.
/// </summary>
internal static class GcsProxyProcess
{
    public const string Verb = "gcs-proxy";

    public static int Run(string upstream, string? port)
    {
        using var proxy = new GcsPreconditionProxy(new Uri(upstream), port: port is null ? 0 : int.Parse(port, CultureInfo.InvariantCulture));
        using var stop = new ManualResetEventSlim();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Set();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        Console.WriteLine($"gcs precondition proxy listening on {proxy.Endpoint} in front of {upstream}");
        stop.Wait();
        foreach (var (kind, count) in proxy.Requests.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"requests {kind}: {count}");
        }

        return 0;
    }
}
