using SlateSharp.Bench.Cli;

namespace SlateSharp.Tests.Bench;

/// <summary>The bench's <c>run</c> and <c>compare</c> parsing: usage errors exit with 2 and one line, never a stack trace.</summary>
public sealed class BenchCliTests
{
    [TestCase("compare", "--bogus", "1")]
    [TestCase("run", "--engine", "slatesharp", "--workload", "fill", "--unknown")]
    [TestCase("frobnicate")]
    [TestCase("prefill-flush", "--bogus")]
    [TestCase("ingest", "--keys", "1000", "--unknown")]
    public async Task UnknownOptionOrCommandExitsWith2AndOneErrorLine(params string[] args)
    {
        var (code, output, error) = await InvokeAsync(args);

        Assert.That(code, Is.EqualTo(BenchCli.UsageError));
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), error);
        Assert.That(lines[0], Does.StartWith("error: "));
        Assert.That(lines[1], Does.StartWith("usage: "));
        Assert.That(error, Does.Not.Contain("   at "));
        Assert.That(output, Is.Empty);
    }

    [TestCase("compare", "--keys", "abc")]
    [TestCase("compare", "--keys", "0")]
    [TestCase("compare", "--rounds", "x")]
    [TestCase("compare", "--read-ratio", "1.5")]
    [TestCase("compare", "--engines", "slatesharp,nosuchdb")]
    [TestCase("compare", "--workloads", "fill,nosuchworkload")]
    [TestCase("run", "--engine", "nosuchdb", "--workload", "fill")]
    [TestCase("run", "--engine", "sqlite", "--workload", "fill", "--cache", "lukewarm")]
    [TestCase("run", "--workload", "fill")]
    [TestCase("prefill-flush", "--keys", "many")]
    [TestCase("prefill-flush", "--compression", "brotli")]
    [TestCase("ingest", "--concurrency", "0")]
    [TestCase("objectstore")]
    public async Task BadValueExitsWith2AndNamesIt(params string[] args)
    {
        var (code, _, error) = await InvokeAsync(args);

        Assert.That(code, Is.EqualTo(BenchCli.UsageError));
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), error);
        Assert.That(lines[0], Does.StartWith("error: "));
        Assert.That(error, Does.Not.Contain("   at "));
    }

    [Test]
    public async Task HelpExitsWith0()
    {
        var (code, output, _) = await InvokeAsync(["compare", "--help"]);

        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("--rounds"));
    }

    private static async Task<(int Code, string Output, string Error)> InvokeAsync(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BenchCli.InvokeAsync(args, output, error);
        return (code, output.ToString(), error.ToString().Replace("\r", "", StringComparison.Ordinal));
    }
}
