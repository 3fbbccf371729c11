using Microsoft.Extensions.Logging;
using SlateSharp.Common;
using SlateSharp.Storage.Gcs;
using SlateSharp.Storage.Local;
using SlateSharp.Storage.S3;

namespace SlateSharp.Storage;

/// <summary>Options for <see cref="ObjectStores.OpenAsync"/>, per backend.</summary>
public sealed class ObjectStoreOptions
{
    /// <summary>Open for reading only: no probes, no writes.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Options for <c>file://</c> URLs; <see cref="ReadOnly"/>, the clock and the logger override theirs.</summary>
    public LocalStoreOptions? Local { get; init; }

    /// <summary>Options for <c>s3://</c> URLs.</summary>
    public S3StoreOptions? S3 { get; init; }

    /// <summary>Options for <c>gs://</c> URLs.</summary>
    public GcsStoreOptions? Gcs { get; init; }

    /// <summary>How <c>s3://</c> and <c>gs://</c> stores retry transient failures.</summary>
    public RetryOptions Retry { get; init; } = new();

    private readonly TimeProvider? _timeProvider;

    /// <summary>
    /// The clock stores use for timestamps and backoff. Unset, a store opened by <see cref="Db"/> or
    /// <see cref="DbReader"/> uses the database's <see cref="DbOptions.TimeProvider"/>, and otherwise the system clock.
    /// </summary>
    public TimeProvider TimeProvider
    {
        get => _timeProvider ?? TimeProvider.System;
        init => _timeProvider = value;
    }

    /// <summary>
    /// Where stores log. Unset, a store opened by <see cref="Db"/> or <see cref="DbReader"/> logs to the
    /// database's <see cref="DbOptions.LoggerFactory"/>; otherwise nothing is logged.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Randomness for backoff jitter and put ids; null: seeded from the operating system. Tests seed it.</summary>
    internal RandomSource? Random { get; init; }

    /// <summary>
    /// These options with the database's clock and logger where these leave them unset: what a store opened for a
    /// database uses, so <see cref="DbOptions.TimeProvider"/> and <see cref="DbOptions.LoggerFactory"/> reach it even
    /// when the application supplies store options of its own.
    /// </summary>
    internal static ObjectStoreOptions For(ObjectStoreOptions? supplied, TimeProvider time, ILoggerFactory? loggers) =>
        supplied is null
            ? new ObjectStoreOptions { TimeProvider = time, LoggerFactory = loggers }
            : new ObjectStoreOptions
            {
                ReadOnly = supplied.ReadOnly,
                Local = supplied.Local,
                S3 = supplied.S3,
                Gcs = supplied.Gcs,
                Retry = supplied.Retry,
                TimeProvider = supplied._timeProvider ?? time,
                LoggerFactory = supplied.LoggerFactory ?? loggers,
                Random = supplied.Random,
            };
}
