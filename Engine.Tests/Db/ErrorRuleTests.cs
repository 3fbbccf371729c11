using SlateSharp.Storage;
using SlateSharp.Storage.InMemory;

namespace SlateSharp.Tests.Db;

/// <summary>
/// The one error rule of the public API (docs/usage.md, "Errors"): invalid arguments are <see cref="ErrorKind.Invalid"/>
/// <see cref="SlateSharpException"/>s; only a null argument (<see cref="ArgumentNullException"/>) and cancellation
/// (<see cref="OperationCanceledException"/>) follow other .NET conventions.
/// </summary>
public sealed class ErrorRuleTests
{
    private SlateSharp.Db _db = null!;

    [SetUp]
    public async Task Open() => _db = await SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "rule", new DbOptions { RandomSeed = 21 });

    [TearDown]
    public async Task Close() => await _db.DisposeAsync();

    private static IEnumerable<TestCaseData> InvalidCalls()
    {
        yield return Case("empty key put", db => db.PutAsync(ReadOnlyMemory<byte>.Empty, new byte[1]).AsTask());
        yield return Case("empty key get", db => db.GetAsync(ReadOnlyMemory<byte>.Empty).AsTask());
        yield return Case("too long key delete", db => db.DeleteAsync(new byte[70_000]).AsTask());
        yield return Case("too long key in a batch", db => Task.FromResult(new WriteBatch().Put(new byte[70_000], [])));
        yield return Case("option out of range", _ => SlateSharp.Db.OpenAsync(new InMemoryObjectStore(), "x", new DbOptions { FlushInterval = TimeSpan.Zero }).AsTask());
        yield return Case("unknown url scheme", _ => SlateSharp.Db.OpenAsync("ftp://host/db").AsTask());
        yield return Case("malformed object path", _ => Task.FromResult(ObjectPath.Parse("../escape")));
        yield return Case("key range start after its end", _ => Task.FromResult(KeyRange.Between(new byte[] { 2 }, new byte[] { 1 })));
        yield return Case("empty scan prefix", db => db.ScanPrefixAsync(ReadOnlyMemory<byte>.Empty).ToListAsync().AsTask());
        yield return Case("non-positive scan limit", _ => Task.FromResult(new ScanOptions { Limit = 0 }));
        yield return Case("empty key in get-many", db => db.GetManyAsync([ReadOnlyMemory<byte>.Empty]).AsTask());
        yield return Case("undefined enum value", _ => Task.FromResult(new SlateSharp.Gc.GcReportBuilder(dryRun: true, DateTimeOffset.UnixEpoch).Build().Of((GcObjectKind)99)));
    }

    private static TestCaseData Case(string name, Func<SlateSharp.Db, Task> call) => new TestCaseData(call).SetArgDisplayNames(name);

    [TestCaseSource(nameof(InvalidCalls))]
    public void Invalid_input_is_an_Invalid_SlateSharpException(Func<SlateSharp.Db, Task> call)
    {
        var error = Assert.CatchAsync(async () => await call(_db));
        Assert.That(error, Is.TypeOf<SlateSharpException>(), error?.ToString());
        Assert.That(((SlateSharpException)error!).Kind, Is.EqualTo(ErrorKind.Invalid));
    }

    [Test]
    public void Null_arguments_and_cancellation_keep_the_dotnet_conventions()
    {
        Assert.ThrowsAsync<ArgumentNullException>(async () => await _db.WriteAsync(null!));
        Assert.ThrowsAsync<ArgumentNullException>(async () => await SlateSharp.Db.OpenAsync((IObjectStore)null!, "x"));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await _db.PutAsync(new byte[] { 1 }, new byte[] { 2 }, cancellationToken: cancelled.Token));
    }

    [Test]
    public void Every_error_kind_has_a_use()
    {
        Assert.That(Enum.GetNames<ErrorKind>(), Is.EquivalentTo(new[] { "Closed", "Unavailable", "Invalid", "Data", "Internal" }));
    }
}
