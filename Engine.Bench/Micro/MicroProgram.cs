using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace SlateSharp.Bench.Micro;

internal static class MicroProgram
{
    /// <summary>
    /// Every argument goes to BenchmarkDotNet's switcher, e.g. <c>--filter '*Bloom*' --job short</c>. In-process: the
    /// project file (Micro.csproj) and assembly (SlateSharp.Bench.Micro) names differ, which the default out-of-process
    /// toolchain cannot map back to a project.
    /// </summary>
    private static int Main(string[] args)
    {
        var config = DefaultConfig.Instance.AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
        BenchmarkSwitcher.FromAssembly(typeof(MicroProgram).Assembly).Run(args, config);
        return 0;
    }
}
