using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using SlateSharp.Common;
using SlateSharp.Storage;
using SlateSharp.Storage.Decorators;
using SlateSharp.Storage.InMemory;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Decorators;

public sealed class RetryingObjectStoreTests
{
    private static readonly ObjectPath Path = ObjectPath.Parse("wal/00000000000000000007.sst");
    private ManualTimeProvider _time = null!;
    private InMemoryObjectStore _memory = null!;
    private FaultInjectingObjectStore _faults = null!;

    [SetUp]
    public void CreateStores()
    {
        _time = new ManualTimeProvider();
        _memory = new InMemoryObjectStore("retry");
        _faults = new FaultInjectingObjectStore(_memory);
    }

    [TearDown]
    public async Task DisposeStores()
    {
        await _faults.DisposeAsync();
        await _memory.DisposeAsync();
    }

    private RetryingObjectStore Retrying(RetryOptions? options = null, ulong seed = 42) =>
        new(_faults, new Retrier(options ?? new RetryOptions(), _time, new RandomSource(seed), NullLogger.Instance), new RandomSource(seed + 1));

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Test]
    public async Task Transient_failures_are_retried_with_growing_jittered_backoff_on_the_injected_clock()
    {
        await _memory.PutAsync(Path, Bytes("data"), PutMode.Overwrite);
        _faults.Plan = (op, call) => op == "get" && call <= 3 ? Fault.Transient() : null;

        var got = await Retrying().GetAsync(Path, ByteRange.All);

        Assert.That(Encoding.UTF8.GetString(got!.Data.Span), Is.EqualTo("data"));
        Assert.That(_faults.Calls("get"), Is.EqualTo(4));
        Assert.That(_time.Delays, Has.Count.EqualTo(3));
        for (var i = 0; i < 3; i++)
        {
            Assert.That(_time.Delays[i], Is.LessThan(TimeSpan.FromMilliseconds(100 << i)), $"backoff {i} stays under its cap");
        }
    }

    [Test]
    public async Task A_retried_create_answered_exists_with_nothing_there_is_retried_not_reported_as_lost()
    {
        var intercept = new InterceptingObjectStore(_memory);
        var puts = 0;
        intercept.OnPut = async (path, options, proceed, _) =>
            Interlocked.Increment(ref puts) switch
            {
                1 => throw new SlateSharpException(ErrorKind.Unavailable, "injected: connection reset"),
                2 => PutResult.AlreadyExists,
                _ => await proceed(),
            };
        var retrying = new RetryingObjectStore(intercept, new Retrier(new RetryOptions(), _time, new RandomSource(1), NullLogger.Instance), new RandomSource(2));

        var result = await retrying.PutAsync(Path, Bytes("data"), PutMode.CreateIfAbsent);

        Assert.That(result.Outcome, Is.EqualTo(PutOutcome.Stored), "'exists' with no object is not an answer: the put was tried again");
        Assert.That(puts, Is.EqualTo(3));
    }

    [Test]
    public void A_create_that_keeps_finding_exists_with_nothing_there_fails_as_unavailable_with_its_outcome_unknown()
    {
        var intercept = new InterceptingObjectStore(_memory);
        var puts = 0;
        intercept.OnPut = (path, options, proceed, _) =>
            Interlocked.Increment(ref puts) == 1
                ? throw new SlateSharpException(ErrorKind.Unavailable, "injected: timeout")
                : Task.FromResult(PutResult.AlreadyExists);
        var retrying = new RetryingObjectStore(
            intercept, new Retrier(new RetryOptions { MaxAttempts = 4 }, _time, new RandomSource(1), NullLogger.Instance), new RandomSource(2));

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await retrying.PutAsync(Path, Bytes("data"), PutMode.CreateIfAbsent));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain("outcome unknown"));
        Assert.That(puts, Is.EqualTo(4));
    }

    [Test]
    public async Task Backoff_is_reproducible_from_the_seed()
    {
        _faults.Plan = (op, _) => op == "head" ? Fault.Transient() : null;
        Assert.ThrowsAsync<SlateSharpException>(async () => await Retrying(seed: 7).HeadAsync(Path));
        var first = _time.Delays.ToList();
        _time.Delays.Clear();

        Assert.ThrowsAsync<SlateSharpException>(async () => await Retrying(seed: 7).HeadAsync(Path));

        Assert.That(_time.Delays, Is.EqualTo(first));
        Assert.That(first.Distinct().Count(), Is.GreaterThan(1), "jitter varies the waits");
        await Task.CompletedTask;
    }

    [Test]
    public void Non_transient_errors_are_not_retried()
    {
        _faults.Plan = (_, _) => Fault.Invalid();

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await Retrying().PutAsync(Path, Bytes("x"), PutMode.Overwrite));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(_faults.Calls("put"), Is.EqualTo(1));
        Assert.That(_time.Delays, Is.Empty);
    }

    [Test]
    public void Attempts_are_bounded()
    {
        _faults.Plan = (_, _) => Fault.Transient();

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await Retrying(new RetryOptions { MaxAttempts = 4 }).HeadAsync(Path));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(error.Message, Does.Contain("gave up after 4 attempts"));
        Assert.That(_faults.Calls("head"), Is.EqualTo(4));
    }

    [Test]
    public void Total_time_is_bounded()
    {
        _faults.Plan = (_, _) => Fault.Transient();
        var options = new RetryOptions { MaxAttempts = 1000, InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(4), MaxElapsed = TimeSpan.FromSeconds(20) };

        var error = Assert.ThrowsAsync<SlateSharpException>(async () => await Retrying(options).DeleteAsync(Path));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Unavailable));
        Assert.That(_time.Elapsed, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(20)));
        Assert.That(_faults.Calls("delete"), Is.InRange(3, 999), "it retried, and stopped long before the attempt limit");
    }

    [Test]
    public async Task A_create_if_absent_that_landed_but_lost_its_answer_is_recognised_by_its_put_id()
    {
        _faults.Plan = (op, call) => op == "put" && call == 1 ? Fault.Transient(FaultTiming.After) : null;

        var result = await Retrying().PutAsync(Path, Bytes("mine"), PutMode.CreateIfAbsent);

        var stored = await _memory.HeadAsync(Path);
        Assert.That(result.Outcome, Is.EqualTo(PutOutcome.Stored), "the retry saw 'already exists', but it was our own write");
        Assert.That(result.Version, Is.EqualTo(stored!.Version));
        Assert.That(stored.PutId, Is.Not.Null.And.Length.EqualTo(32));
        Assert.That(_faults.Calls("put"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_create_if_absent_that_really_lost_the_race_after_a_retry_reports_already_exists()
    {
        _faults.Plan = (op, call) => op == "put" && call == 1 ? Fault.Transient() : null;
        await _memory.PutAsync(Path, Bytes("theirs"), new PutOptions(PutMode.CreateIfAbsent, "someone-else"));

        var result = await Retrying().PutAsync(Path, Bytes("mine"), PutMode.CreateIfAbsent);

        Assert.That(result.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(Encoding.UTF8.GetString((await _memory.GetAsync(Path, ByteRange.All))!.Data.Span), Is.EqualTo("theirs"));
    }

    [Test]
    public async Task An_if_version_matches_that_landed_but_lost_its_answer_is_recognised()
    {
        var v1 = await _memory.PutAsync(Path, Bytes("v1"), PutMode.CreateIfAbsent);
        _faults.Plan = (op, call) => op == "put" && call == 1 ? Fault.Transient(FaultTiming.After) : null;

        var result = await Retrying().PutAsync(Path, Bytes("v2"), new PutOptions(PutMode.IfVersionMatches(v1.Version!.Value), "caller-id"));

        Assert.That(result.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That((await _memory.HeadAsync(Path))!.PutId, Is.EqualTo("caller-id"), "a caller's put id is kept");
    }

    [Test]
    public async Task A_first_attempt_that_finds_the_object_is_a_plain_loss_without_a_read_back()
    {
        await _memory.PutAsync(Path, Bytes("theirs"), PutMode.CreateIfAbsent);

        var result = await Retrying().PutAsync(Path, Bytes("mine"), PutMode.CreateIfAbsent);

        Assert.That(result.Outcome, Is.EqualTo(PutOutcome.AlreadyExists));
        Assert.That(_faults.Calls("head"), Is.Zero);
    }

    [Test]
    public async Task Seekable_streams_are_replayed_from_their_start_and_unseekable_ones_run_once()
    {
        _faults.Plan = (op, call) => op == "put" && call == 1 ? Fault.Transient() : null;
        using var seekable = new MemoryStream(Bytes("streamed"));

        var stored = await Retrying().PutAsync(Path, seekable, PutMode.Overwrite);

        Assert.That(stored.Outcome, Is.EqualTo(PutOutcome.Stored));
        Assert.That(Encoding.UTF8.GetString((await _memory.GetAsync(Path, ByteRange.All))!.Data.Span), Is.EqualTo("streamed"));

        _faults.Plan = (op, _) => op == "put" ? Fault.Transient() : null;
        var before = _faults.Calls("put");
        Assert.ThrowsAsync<SlateSharpException>(async () => await Retrying().PutAsync(Path, new PatternStream(100, 1), PutMode.Overwrite));
        Assert.That(_faults.Calls("put") - before, Is.EqualTo(1));
    }

    [Test]
    public async Task A_listing_that_fails_midway_resumes_after_the_last_path_it_returned()
    {
        for (var i = 0; i < 2500; i++)
        {
            await _memory.PutAsync(ObjectPath.Parse($"sst/{i:D5}"), Bytes("x"), PutMode.Overwrite);
        }

        _faults.ListFaultAfterItems = 1234;
        _faults.Plan = (op, call) => op == "list" && call <= 2 ? Fault.Transient() : null;

        var listed = new List<string>();
        await foreach (var item in Retrying().ListAsync("sst/"))
        {
            listed.Add(item.Path.Value);
        }

        Assert.That(listed, Is.EqualTo(Enumerable.Range(0, 2500).Select(i => $"sst/{i:D5}").ToList()));
        Assert.That(_faults.Calls("list"), Is.EqualTo(3));
    }
}
