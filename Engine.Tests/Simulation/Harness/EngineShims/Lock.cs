namespace SlateSharp;

/// <summary>
/// Simulation build only: stands in for <see cref="System.Threading.Lock"/>, which Coyote does not model. A
/// <c>lock</c> on this plain object compiles to <see cref="Monitor"/>, which Coyote rewrites into a lock it schedules:
/// a task descheduled inside the lock keeps it, and a task that wants it waits under the scheduler's control instead
/// of blocking its thread (which Coyote would report as a hang).
/// </summary>
internal sealed class Lock;
