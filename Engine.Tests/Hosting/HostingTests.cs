using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using SlateSharp.Hosting;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Hosting;

/// <summary><c>services.AddSlateSharp(url)</c> in a real generic host: open at start, close at stop, a health check that sees fencing.</summary>
public sealed class HostingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task The_host_opens_the_database_at_start_and_closes_it_at_stop_keeping_every_write()
    {
        using var directory = new TestDirectory();
        var url = "file://" + directory.Path;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSlateSharp(url, _ => new DbOptions { RandomSeed = 22 });
        using (var host = builder.Build())
        {
            Assert.Throws<SlateSharpException>(() => host.Services.GetRequiredService<SlateSharp.Db>(), "not open before the host starts");
            await host.StartAsync();
            var db = host.Services.GetRequiredService<SlateSharp.Db>();
            Assert.That(host.Services.GetRequiredKeyedService<SlateSharp.Db>(SlateSharpServiceCollectionExtensions.DefaultName), Is.SameAs(db));
            await db.PutAsync(B("k"), B("v"), WriteOptions.NoWait);

            var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.That(health.Status, Is.EqualTo(HealthStatus.Healthy), health.Entries.Values.FirstOrDefault().Description);
            await host.StopAsync();
            Assert.That(db.Completion.IsCompletedSuccessfully, Is.True, "closed cleanly at stop");
        }

        await using var reopened = await SlateSharp.Db.OpenAsync(url, new DbOptions { RandomSeed = 23 });
        Assert.That(await reopened.GetAsync(B("k")), Is.EqualTo(B("v")), "the memtable-acknowledged write was flushed at stop");
    }

    [Test]
    public async Task The_health_check_reports_a_fenced_database_and_the_host_still_stops_cleanly()
    {
        using var directory = new TestDirectory();
        var url = "file://" + directory.Path;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSlateSharp(url, _ => new DbOptions { RandomSeed = 24, ManifestPollInterval = TimeSpan.FromMilliseconds(20) }, name: "orders");
        using var host = builder.Build();
        await host.StartAsync();
        var db = host.Services.GetRequiredKeyedService<SlateSharp.Db>("orders");

        await using (var newer = await SlateSharp.Db.OpenAsync(url, new DbOptions { RandomSeed = 25 }))
        {
            Assert.CatchAsync<SlateSharpException>(async () => await db.Completion.WaitAsync(Patience));
            var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            var entry = health.Entries["orders"];
            Assert.Multiple(() =>
            {
                Assert.That(health.Status, Is.EqualTo(HealthStatus.Unhealthy));
                Assert.That(entry.Description, Does.Contain("fenced"));
                Assert.That(entry.Exception, Is.TypeOf<SlateSharpException>());
            });
        }

        Assert.DoesNotThrowAsync(async () => await host.StopAsync(), "a fenced database is released at stop without failing the shutdown");
    }

    [Test]
    public void A_second_registration_under_the_same_name_is_refused()
    {
        var services = new ServiceCollection();
        services.AddSlateSharp("memory://a");
        var error = Assert.Throws<SlateSharpException>(() => services.AddSlateSharp("memory://b"));
        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.DoesNotThrow(() => services.AddSlateSharp("memory://b", name: "second"));
    }

    [Test]
    public async Task A_database_that_cannot_open_stops_the_host_from_starting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSlateSharp("ftp://nowhere/db");
        using var host = builder.Build();
        var error = Assert.CatchAsync(async () => await host.StartAsync());
        Assert.That(error, Is.TypeOf<SlateSharpException>());
        await host.StopAsync();
    }
}
