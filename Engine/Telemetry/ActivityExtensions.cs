using System.Diagnostics;

namespace SlateSharp.Telemetry;

internal static class ActivityExtensions
{
    /// <summary>Marks the span failed with the exception's type and message (OpenTelemetry's error.type convention): an engine error as its kind, with the close reason when closed (<c>Closed.Fenced</c>), anything else as its type.</summary>
    public static void Fail(this Activity? activity, Exception e)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, e.Message);
        activity.SetTag("error.type", e switch
        {
            SlateSharpException { CloseReason: { } reason } s => $"{s.Kind}.{reason}",
            SlateSharpException s => $"{s.Kind}",
            _ => e.GetType().FullName,
        });
    }
}
