#pragma warning disable CA1050 // the runtime looks for exactly this type name, in the global namespace

/// <summary>
/// The .NET startup hook through which <see cref="SlateSharp.Tests.Storage.Local.LockedRenameKillTests"/> runs this
/// test assembly as the process it kills: started with <c>DOTNET_STARTUP_HOOKS</c> naming this assembly, the runtime
/// calls <see cref="Initialize"/> before any entry point. Without <see cref="SlateSharp.Tests.Storage.Local.LockedRenameVictim.Variable"/>
/// in the environment it returns at once, so the assembly's own entry point (and any other child mode) is untouched.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(SlateSharp.Tests.Storage.Local.LockedRenameVictim.Variable) is { Length: > 0 } spec)
        {
            Environment.Exit(SlateSharp.Tests.Storage.Local.LockedRenameVictim.Run(spec));
        }
    }
}

#pragma warning restore CA1050
