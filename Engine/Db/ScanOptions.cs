namespace SlateSharp;

/// <summary>
/// How a scan returns rows. A class of its own rather than a subclass of <see cref="ReadOptions"/>: a scan's options
/// mean nothing to a get, and <see cref="ReadOptions"/> stays sealed; <see cref="DurableOnly"/> is the same setting.
/// </summary>
public sealed class ScanOptions
{
    private readonly int? _limit;

    /// <summary>The default: ascending, every row, with values, every acknowledged write.</summary>
    public static ScanOptions Default { get; } = new();

    /// <summary>True: keys in descending order (a real reverse walk, not a reversed copy). Default false.</summary>
    public bool Reverse { get; init; }

    /// <summary>At most this many rows (null for no limit); must be positive.</summary>
    public int? Limit
    {
        get => _limit;
        init
        {
            if (value is <= 0)
            {
                throw Errors.Invalid($"scan limit must be positive (limit={value})");
            }

            _limit = value;
        }
    }

    /// <summary>
    /// True: rows come back with empty values (the values are never copied out of blocks or memtables). Blocks holding
    /// them are still read, since keys and values share blocks. Default false.
    /// </summary>
    public bool KeysOnly { get; init; }

    /// <summary>As <see cref="ReadOptions.DurableOnly"/>: see only writes nothing a crash could take away. Default false.</summary>
    public bool DurableOnly { get; init; }
}
