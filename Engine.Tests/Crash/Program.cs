namespace SlateSharp.Tests.Crash;

/// <summary>
/// The test assembly's entry point, in place of the one Microsoft.NET.Test.Sdk generates (which does nothing: test
/// hosts load the assembly and never call it). Given the <see cref="CrashChild.Verb"/> verb it runs as the kill
/// test's writer child, given <see cref="CompactorChild.Verb"/> as its compactor child, given
/// <see cref="Storage.Gcs.GcsStoreChild.Verb"/> as a GCS store in an environment of its own, given
/// <see cref="TestSupport.GcsProxyProcess.Verb"/> as the GCS precondition proxy (for the bench); otherwise it does
/// nothing, like the generated one.
/// </summary>
internal static class Program
{
    public static int Main(string[] args) => args switch
    {
        [CrashChild.Verb, .. var rest] => CrashChild.Run(rest),
        [CompactorChild.Verb, var url] => CompactorChild.Run(url),
        [Storage.Gcs.GcsStoreChild.Verb, var url] => Storage.Gcs.GcsStoreChild.Run(url, null),
        [Storage.Gcs.GcsStoreChild.Verb, var url, var endpoint] => Storage.Gcs.GcsStoreChild.Run(url, endpoint),
        [TestSupport.GcsProxyProcess.Verb, var upstream] => TestSupport.GcsProxyProcess.Run(upstream, null),
        [TestSupport.GcsProxyProcess.Verb, var upstream, var port] => TestSupport.GcsProxyProcess.Run(upstream, port),
        _ => 0,
    };
}
