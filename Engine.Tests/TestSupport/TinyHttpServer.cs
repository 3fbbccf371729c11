using System.Net;
using System.Net.Sockets;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// A minimal HTTP server on 127.0.0.1 that answers every request with <see cref="Respond"/>: for tests that need a
/// misbehaving server (one that ignores conditional headers, one that never answers).
/// </summary>
public sealed class TinyHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();

    public TinyHttpServer(Func<HttpListenerContext, Task> respond)
    {
        Respond = respond;
        var port = ClosedPort();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    try
                    {
                        await Respond(context);
                    }
                    finally
                    {
                        context.Response.Close();
                    }
                });
            }
        });
    }

    public string Endpoint { get; }

    public Func<HttpListenerContext, Task> Respond { get; }

    public List<string> Requests { get; } = [];

    /// <summary>A port on 127.0.0.1 that nothing listens on (it was free a moment ago).</summary>
    public static int ClosedPort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose() => _listener.Close();
}
