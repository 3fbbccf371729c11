using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace SlateSharp.Bench.Micro;

internal static class MicroProgram
{
    /// <summary>
    /// Every argument goes to BenchmarkDotNet's switcher, e.g. <c>--filter '*Bloom*' --job short</c>. In-process: the
    /// project file (Micro.csproj) and assembly (SlateSharp.Bench.Micro) names differ, which the default out-of-process
    /// toolchain cannot map back to a project. Asked for with the switcher's own <c>--inProcess</c>, so <c>--job</c>
    /// still chooses the job (a config job marked as default would replace it silently).
    /// </summary>
    private static int Main(string[] args)
    {
        string[] switcherArgs = args.Contains("--inProcess", StringComparer.OrdinalIgnoreCase) ? args : [.. args, "--inProcess"];
        BenchmarkSwitcher.FromAssembly(typeof(MicroProgram).Assembly).Run(switcherArgs, DefaultConfig.Instance);
        return 0;
    }
}
