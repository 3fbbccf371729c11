namespace SlateSharp.Wal;

/// <summary>
/// The optional cap on WAL uploads per second (<see cref="DbOptions.MaxWalUploadsPerSecond"/>): each upload starts
/// no sooner than 1/rate after the previous one, so durable writers arriving meanwhile share one object and the PUT
/// bill of a busy S3 database stays bounded. Without a cap it never waits.
/// </summary>
internal sealed class UploadPacer(int? maxUploadsPerSecond, TimeProvider time)
{
    private readonly TimeSpan _spacing = maxUploadsPerSecond is { } rate ? TimeSpan.FromSeconds(1.0 / rate) : TimeSpan.Zero;
    private long _lastStart = long.MinValue;

    /// <summary>Waits until the next upload may start, and records that it starts. Called by the single upload loop.</summary>
    public async ValueTask WaitTurnAsync(CancellationToken cancellationToken)
    {
        if (_spacing > TimeSpan.Zero && _lastStart != long.MinValue)
        {
            var wait = _spacing - time.GetElapsedTime(_lastStart);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }

        _lastStart = time.GetTimestamp();
    }
}
