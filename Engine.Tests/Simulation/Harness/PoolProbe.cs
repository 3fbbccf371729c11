using System.Diagnostics.Tracing;

namespace SlateSharp.Simulation;

/// <summary>
/// Diagnostic for SLATESHARP_SIM_DEBUG_POOL=1: prints, with a stack trace, every task continuation that runs on a
/// thread-pool thread. In a controlled run only Coyote's own bookkeeping runs there; anything of the engine's or the
/// harness's is concurrency Coyote does not see, and the stack says which framework call put it there (this is how
/// the stand-ins in EngineShims/ were found).
/// </summary>
internal sealed class PoolProbe : EventListener
{
    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name is "System.Threading.Tasks.TplEventSource")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x7);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (Thread.CurrentThread.IsThreadPoolThread && eventData.EventName is "AwaitTaskContinuationScheduled" or "TaskWaitContinuationStarted")
        {
            Console.Error.WriteLine($"pool thread {Environment.CurrentManagedThreadId}: {eventData.EventName}\n{Environment.StackTrace}");
        }
    }
}
