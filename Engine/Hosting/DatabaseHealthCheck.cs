using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SlateSharp.Hosting;

/// <summary>
/// Healthy while the database is open and writing; unhealthy once it is fenced (a newer writer took over), failed
/// (storage failed past the retry budget), closed, or not yet open. The data carries a few gauges.
/// </summary>
internal sealed class DatabaseHealthCheck(HostedDatabase hosted) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (hosted.Current is not { } database)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"'{hosted.Name}' is not open yet ({hosted.Url})"));
        }

        var completion = database.Completion;
        if (completion.IsFaulted)
        {
            var error = completion.Exception.InnerException as SlateSharpException;
            var what = error?.CloseReason == CloseReason.Fenced ? "fenced: a newer writer took over" : "failed";
            return Task.FromResult(HealthCheckResult.Unhealthy($"'{hosted.Name}' {what} ({database.Location})", error));
        }

        if (completion.IsCompleted)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"'{hosted.Name}' is closed ({database.Location})"));
        }

        var stats = database.GetStats();
        var data = new Dictionary<string, object>
        {
            ["location"] = database.Location,
            ["writer_epoch"] = database.WriterEpoch,
            ["durable_sequence"] = stats.DurableSequence,
            ["unflushed_bytes"] = stats.UnflushedBytes,
            ["l0_ssts"] = stats.L0Ssts,
        };
        return Task.FromResult(HealthCheckResult.Healthy($"'{hosted.Name}' is open ({database.Location})", data));
    }
}
