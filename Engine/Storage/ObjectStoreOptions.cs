using Microsoft.Extensions.Logging;
using SlateSharp.Storage.Local;

namespace SlateSharp.Storage;

/// <summary>Options for <see cref="ObjectStores.OpenAsync"/>, per backend.</summary>
public sealed class ObjectStoreOptions
{
    /// <summary>Open for reading only: no probes, no writes.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Options for <c>file://</c> URLs; <see cref="ReadOnly"/>, the clock and the logger override theirs.</summary>
    public LocalStoreOptions? Local { get; init; }

    /// <summary>The clock stores use for timestamps and backoff.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where stores log; nothing is logged by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
