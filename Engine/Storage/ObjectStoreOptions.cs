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

    /// <summary>The clock stores use for timestamps and backoff.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where stores log; nothing is logged by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Randomness for backoff jitter and put ids; null: seeded from the operating system. Tests seed it.</summary>
    internal RandomSource? Random { get; init; }
}
