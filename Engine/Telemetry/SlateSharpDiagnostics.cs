namespace SlateSharp;

/// <summary>
/// The names under which SlateSharp reports to .NET's own diagnostics: one <see cref="System.Diagnostics.Metrics.Meter"/>
/// and one <see cref="System.Diagnostics.ActivitySource"/>, both named <see cref="Name"/>. Subscribe with
/// <c>AddMeter(SlateSharpDiagnostics.Name)</c> and <c>AddSource(SlateSharpDiagnostics.Name)</c> in OpenTelemetry, or
/// with <c>dotnet-counters monitor --counters SlateSharp</c>. Every instrument and span is listed in docs/usage.md.
/// </summary>
public static class SlateSharpDiagnostics
{
    /// <summary>The meter's and the activity source's name.</summary>
    public const string Name = "SlateSharp";

    /// <summary>The tag on every measurement and span that says which database (or store) it belongs to: its location, e.g. <c>file:///data/db</c>.</summary>
    public const string LocationTag = "db.location";
}
