namespace SlateSharp;

/// <summary>
/// The coarse class of a <see cref="SlateSharpException"/>: it tells the caller what to do next.
/// The message carries the detail (object path, epoch, id) as lowercase key=value pairs.
/// </summary>
public enum ErrorKind
{
    // 0 was Transaction, never used (no transactions exist yet): the other values keep their numbers.

    /// <summary>The database is closed; see <see cref="SlateSharpException.CloseReason"/> for why.</summary>
    Closed = 1,

    /// <summary>Storage could not be reached or answered with a transient failure; retrying later may work.</summary>
    Unavailable = 2,

    /// <summary>The caller passed something invalid (options, path, key, URL); fix the call.</summary>
    Invalid = 3,

    /// <summary>Stored data is corrupt or in an unknown format; the message names the object and offset.</summary>
    Data = 4,

    /// <summary>An engine invariant was broken: a bug; report it.</summary>
    Internal = 5,
}
