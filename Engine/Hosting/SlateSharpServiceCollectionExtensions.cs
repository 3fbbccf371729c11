using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SlateSharp.Hosting;

/// <summary>Registers a SlateSharp database in a .NET generic host (docs/usage.md, "Hosting").</summary>
public static class SlateSharpServiceCollectionExtensions
{
    /// <summary>The name of the database <see cref="AddSlateSharp"/> registers when none is given.</summary>
    public const string DefaultName = "slatesharp";

    /// <summary>
    /// Registers the database at <paramref name="url"/>: the host opens it at start (a failure to open stops the host
    /// from starting, with the error) and closes it at shutdown, flushing every acknowledged write. <see cref="Db"/>
    /// is a singleton (also keyed by <paramref name="name"/>, so several databases can live in one host; the first
    /// registered is the unkeyed one), and a health check named <paramref name="name"/> reports the database
    /// unhealthy once it is fenced, failed or closed. <paramref name="options"/> builds the options from the
    /// container; without it the database logs through the container's <see cref="ILoggerFactory"/> and runs on its
    /// <see cref="TimeProvider"/> when those are registered.
    /// </summary>
    public static IServiceCollection AddSlateSharp(
        this IServiceCollection services, string url, Func<IServiceProvider, DbOptions>? options = null, string name = DefaultName)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(name);
        if (services.Any(d => d.ServiceType == typeof(HostedDatabase) && Equals(d.ServiceKey, name)))
        {
            throw Errors.Invalid($"a SlateSharp database named '{name}' is registered already; give each database its own name (url={url})");
        }

        services.AddKeyedSingleton(name, (provider, _) => new HostedDatabase(
            name,
            url,
            options?.Invoke(provider) ?? DefaultOptions(provider),
            provider.GetService<ILoggerFactory>()?.CreateLogger<HostedDatabase>()));
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredKeyedService<HostedDatabase>(name));
        services.AddKeyedSingleton(name, (provider, _) => provider.GetRequiredKeyedService<HostedDatabase>(name).Database);
        services.TryAddSingleton(provider => provider.GetRequiredKeyedService<HostedDatabase>(name).Database);
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            name, provider => new DatabaseHealthCheck(provider.GetRequiredKeyedService<HostedDatabase>(name)), failureStatus: null, tags: ["slatesharp"]));
        return services;
    }

    private static DbOptions DefaultOptions(IServiceProvider provider) => new()
    {
        LoggerFactory = provider.GetService<ILoggerFactory>(),
        TimeProvider = provider.GetService<TimeProvider>() ?? TimeProvider.System,
    };
}
