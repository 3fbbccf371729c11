namespace SlateSharp;

/// <summary>
/// Simulation build only. Coyote 1.7.11 rewrites the <c>ConfiguredValueTaskAwaitable</c> that
/// <c>ConfiguredCancelableAsyncEnumerable</c> and <c>ConfiguredAsyncDisposable</c> return from the framework as if
/// it were its own struct and the process dies with an access violation. The engine's
/// <c>await foreach (… .ConfigureAwait(false))</c> and <c>await using (… .ConfigureAwait(false))</c> bind to these
/// overloads instead (the engine's own namespaces are searched before its using directives) and await the plain
/// interfaces, whose <c>ValueTask</c>s Coyote controls. Under Coyote every continuation runs on its scheduler whatever
/// ConfigureAwait says, so nothing else changes.
/// </summary>
internal static class AsyncStreamShims
{
    public static IAsyncEnumerable<T> ConfigureAwait<T>(this IAsyncEnumerable<T> source, bool continueOnCapturedContext)
    {
        _ = continueOnCapturedContext;
        return source;
    }

    public static IAsyncDisposable ConfigureAwait(this IAsyncDisposable source, bool continueOnCapturedContext)
    {
        _ = continueOnCapturedContext;
        return source;
    }
}
