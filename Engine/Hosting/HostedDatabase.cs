using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SlateSharp.Hosting;

/// <summary>One registered database: opened when the host starts, closed when it stops.</summary>
internal sealed class HostedDatabase(string name, string url, DbOptions options, ILogger<HostedDatabase>? logger) : IHostedService
{
    private readonly ILogger _logger = logger ?? NullLogger<HostedDatabase>.Instance;
    private Db? _database;

    public string Name => name;

    public string Url => url;

    /// <summary>The open database, or null before the host started it.</summary>
    public Db? Current => Volatile.Read(ref _database);

    /// <summary>The open database; resolving it before the host started is a clear error, not a null.</summary>
    public Db Database => Current ?? throw Errors.Invalid(
        $"the SlateSharp database '{name}' is opened when the host starts; resolve Db after IHost.StartAsync (or from a hosted service that starts later) (url={url})");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var database = await Db.OpenAsync(url, options, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _database, database);
    }

    /// <summary>Closes the database, flushing every acknowledged write; a fenced or failed one is released and logged.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Current is not { } database)
        {
            return;
        }

        try
        {
            await database.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SlateSharpException e) when (e.Kind == ErrorKind.Closed)
        {
            _logger.LogWarning("SlateSharp database '{Name}' at {Url} had stopped before the host: {Message}", name, url, e.Message);
        }
    }
}
