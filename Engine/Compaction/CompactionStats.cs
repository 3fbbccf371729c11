namespace SlateSharp;

/// <summary>What a compactor has done since it started.</summary>
/// <param name="Jobs">Jobs published.</param>
/// <param name="BytesRead">Bytes of input SSTs compacted.</param>
/// <param name="BytesWritten">Bytes of output SSTs published.</param>
/// <param name="RowsRead">Rows read from the inputs.</param>
/// <param name="RowsWritten">Rows written to the outputs.</param>
/// <param name="Busy">Time spent running jobs.</param>
/// <param name="FailedJobs">Jobs that failed (retried later); their outputs were deleted or left to GC.</param>
public sealed record CompactionStats(long Jobs, long BytesRead, long BytesWritten, long RowsRead, long RowsWritten, TimeSpan Busy, long FailedJobs)
{
    /// <summary>Input bytes per second of busy time, in MB/s.</summary>
    public double MegabytesPerSecond => Busy > TimeSpan.Zero ? BytesRead / 1e6 / Busy.TotalSeconds : 0;
}
