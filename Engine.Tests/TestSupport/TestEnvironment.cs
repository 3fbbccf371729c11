namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Where the external test servers are, from environment variables set by Engine.Tests/run-tests.sh. A test whose
/// server is missing is ignored, unless SLATESHARP_REQUIRE_ALL_TARGETS=1 (as in CI), where it fails.
/// </summary>
public static class TestEnvironment
{
    /// <summary>A directory on a FUSE mount without hard links (s3fs over the S3 test server).</summary>
    public static string? FuseDirectory => Get("SLATESHARP_TEST_FUSE_DIR");

    public static bool RequireAllTargets => Get("SLATESHARP_REQUIRE_ALL_TARGETS") == "1";

    public static string? Get(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>Ignores (locally) or fails (CI) the current test because <paramref name="what"/> is not available.</summary>
    public static void Missing(string what)
    {
        var message = $"{what} is not available; run the tests through Engine.Tests/run-tests.sh to start it";
        if (RequireAllTargets)
        {
            Assert.Fail(message);
        }

        Assert.Ignore(message);
    }
}
