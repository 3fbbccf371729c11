using SystemPipeOptions = System.IO.Pipelines.PipeOptions;

namespace SlateSharp;

/// <summary>
/// Simulation build only: stands in for <see cref="SystemPipeOptions"/> with both schedulers
/// <see cref="System.IO.Pipelines.PipeScheduler.Inline"/>. The default scheduler resumes the pipe's reader and writer
/// on thread-pool threads Coyote does not control; inline, the SST builder and its upload hand over on the tasks
/// Coyote schedules.
/// </summary>
internal sealed class PipeOptions(long pauseWriterThreshold, long resumeWriterThreshold, int minimumSegmentSize, bool useSynchronizationContext)
{
    public static implicit operator SystemPipeOptions(PipeOptions options) =>
        new(
            readerScheduler: System.IO.Pipelines.PipeScheduler.Inline,
            writerScheduler: System.IO.Pipelines.PipeScheduler.Inline,
            pauseWriterThreshold: options.PauseWriterThreshold,
            resumeWriterThreshold: options.ResumeWriterThreshold,
            minimumSegmentSize: options.MinimumSegmentSize,
            useSynchronizationContext: options.UseSynchronizationContext);

    public long PauseWriterThreshold { get; } = pauseWriterThreshold;

    public long ResumeWriterThreshold { get; } = resumeWriterThreshold;

    public int MinimumSegmentSize { get; } = minimumSegmentSize;

    public bool UseSynchronizationContext { get; } = useSynchronizationContext;
}
