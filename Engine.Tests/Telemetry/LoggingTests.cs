using System.Text;
using Microsoft.Extensions.Logging;
using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.Gc;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Telemetry;

/// <summary>What the engine logs, and that the database's logger and clock reach the store it opens.</summary>
public sealed class LoggingTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Test]
    public async Task Nothing_is_logged_at_information_or_above_per_write_or_read()
    {
        const int Writes = 5000;
        var loggers = new RecordingLoggerFactory();
        var options = new DbOptions
        {
            FlushInterval = TimeSpan.FromMilliseconds(5),
            MemtableSizeBytes = 64 << 10,
            RandomSeed = 11,
            LoggerFactory = loggers,
            Compaction = new() { Enabled = false },
            L0MaxSsts = 1000,
        };
        await using var db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "logging", options);
        var before = loggers.Entries.Count(e => e.Level >= LogLevel.Information);
        var value = new byte[100];
        for (var i = 0; i < Writes; i++)
        {
            await db.PutAsync(B($"k{i:D5}"), value, i % 10 == 0 ? null : WriteOptions.NoWait);
            _ = await db.GetAsync(B($"k{i / 2:D5}"));
        }

        await db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        var flushes = db.GetStats().MemtableFlushes;
        var logged = loggers.Entries.Skip(0).Count(e => e.Level >= LogLevel.Information) - before;

        Assert.That(flushes, Is.GreaterThan(5), "the workload flushed several memtables");
        Assert.That(logged, Is.LessThanOrEqualTo(3), "information and above is for rare events (open, close, warnings), never per write, read or flush:\n"
            + string.Join("\n", loggers.Entries.Where(e => e.Level >= LogLevel.Information).Select(e => $"{e.Level} {e.Category}: {e.Message}")));
        Assert.That(loggers.Entries.Any(e => e.Level == LogLevel.Debug && e.Message.Contains("flushed memtable", StringComparison.Ordinal)), Is.True, "flushes are logged at Debug");
    }

    [Test]
    public async Task Supplied_store_options_still_get_the_databases_logger_and_clock()
    {
        using var directory = new TestDirectory();
        var stale = Path.Combine(directory.Path, LocalFileSystemObjectStore.TempPrefix + "left-by-a-crash");
        await File.WriteAllTextAsync(stale, "partial upload");
        var loggers = new RecordingLoggerFactory();
        var time = new ShiftedTimeProvider();
        time.Advance(TimeSpan.FromDays(2));

        var options = new DbOptions
        {
            LoggerFactory = loggers,
            TimeProvider = time,
            RandomSeed = 12,
            ObjectStore = new ObjectStoreOptions { Local = new LocalStoreOptions { StaleTempFileAge = TimeSpan.FromDays(1) } },
        };
        await using (var db = await SlateSharp.Db.OpenAsync("file://" + directory.Path, options))
        {
            await db.PutAsync(B("k"), B("v"));
        }

        Assert.Multiple(() =>
        {
            Assert.That(
                loggers.Entries.Any(e => e.Category.EndsWith(nameof(LocalFileSystemObjectStore), StringComparison.Ordinal) && e.Message.Contains("commit strategy", StringComparison.Ordinal)),
                Is.True,
                "the store logged through DbOptions.LoggerFactory");
            Assert.That(File.Exists(stale), Is.False, "the store judged the temporary file's age by DbOptions.TimeProvider (two days ahead), not the system clock");
        });
    }

    [Test]
    public async Task A_clock_and_logger_set_on_the_store_options_win_over_the_databases()
    {
        using var directory = new TestDirectory();
        var stale = Path.Combine(directory.Path, LocalFileSystemObjectStore.TempPrefix + "recent");
        await File.WriteAllTextAsync(stale, "partial upload");
        var dbLoggers = new RecordingLoggerFactory();
        var storeLoggers = new RecordingLoggerFactory();
        var dbTime = new ShiftedTimeProvider();
        dbTime.Advance(TimeSpan.FromDays(2));

        var options = new DbOptions
        {
            LoggerFactory = dbLoggers,
            TimeProvider = dbTime,
            RandomSeed = 13,
            ObjectStore = new ObjectStoreOptions { LoggerFactory = storeLoggers, TimeProvider = TimeProvider.System, Local = new LocalStoreOptions { StaleTempFileAge = TimeSpan.FromDays(1) } },
        };
        await using (var db = await SlateSharp.Db.OpenAsync("file://" + directory.Path, options))
        {
            await db.PutAsync(B("k"), B("v"));
        }

        Assert.Multiple(() =>
        {
            Assert.That(storeLoggers.Entries.Any(e => e.Category.EndsWith(nameof(LocalFileSystemObjectStore), StringComparison.Ordinal)), Is.True);
            Assert.That(dbLoggers.Entries.Any(e => e.Category.EndsWith(nameof(LocalFileSystemObjectStore), StringComparison.Ordinal)), Is.False);
            Assert.That(File.Exists(stale), Is.True, "the store's own clock (the system's) says the file is new");
        });
    }
}
