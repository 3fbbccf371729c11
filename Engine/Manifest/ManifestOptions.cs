namespace SlateSharp.Manifest;

/// <summary>How long claims and updates may retry after losing compare-and-swap races, and the clock to measure it.</summary>
internal sealed record ManifestOptions(TimeSpan UpdateTimeout, TimeProvider TimeProvider)
{
    public static ManifestOptions Default { get; } = new(TimeSpan.FromMinutes(1), TimeProvider.System);
}
