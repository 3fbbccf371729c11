namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Where the external test servers are, from environment variables set by Engine.Tests/run-tests.sh. A test whose
/// server is missing is ignored, unless SLATESHARP_REQUIRE_ALL_TARGETS=1 (as in CI), where it fails.
/// </summary>
public static class TestEnvironment
{
    /// <summary>A directory on a FUSE mount without hard links (s3fs over the S3 test server).</summary>
    public static string? FuseDirectory => Get("SLATESHARP_TEST_FUSE_DIR");

    /// <summary>
    /// A directory on a second s3fs mount made with s3fs defaults (only passwd_file, url and use_path_request_style,
    /// without the nomultipart, notsup_compat_dir and enable_noobj_cache of <see cref="FuseDirectory"/>): every call
    /// costs more requests there.
    /// </summary>
    public static string? FuseDefaultsDirectory => Get("SLATESHARP_TEST_FUSE_DEFAULTS_DIR");

    /// <summary>The S3 test server (Ceph RGW), credentials test/testsecret, region us-east-1, path-style.</summary>
    public static string? S3Endpoint => Get("SLATESHARP_TEST_S3_ENDPOINT");

    /// <summary>A bucket on <see cref="S3Endpoint"/> the tests may fill.</summary>
    public static string S3Bucket => Get("SLATESHARP_TEST_S3_BUCKET") ?? "slatesharp-test";

    /// <summary>The firebase-tools Cloud Storage emulator (anonymous; ignores generation preconditions).</summary>
    public static Uri? GcsEmulator => Get("SLATESHARP_TEST_GCS_EMULATOR") is { } url ? new Uri(url) : null;

    /// <summary>A unique name for this test process, so runs never see each other's objects.</summary>
    public static string RunId { get; } = Guid.NewGuid().ToString("N")[..12];

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
