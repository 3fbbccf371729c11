using SlateSharp.Manifest;

namespace SlateSharp.Sst;

/// <summary>
/// How many reads pin one manifest object now, counted without a lock (<see cref="SstPins.AcquireRead"/>). Once no
/// read holds it, it may be retired: from then on nobody can enter it, and a read of the same manifest registers new
/// pins instead. So pins that have not been retired are always registered with their <see cref="SstPins"/>, and a
/// snapshot of the registered ones that finds them held (<see cref="IsHeld"/>) sees every read that entered them.
/// </summary>
internal sealed class ManifestReadPins(DbManifest manifest, SstId[] ids)
{
    private const int Retired = -1;

    // Reads holding the pins, or Retired.
    private int _count;

    public DbManifest Manifest => manifest;

    public SstId[] Ids => ids;

    /// <summary>Whether a read holds these pins now.</summary>
    public bool IsHeld => Volatile.Read(ref _count) > 0;

    /// <summary>Enters unless retired (then false: register new pins).</summary>
    public bool TryEnter()
    {
        var count = Volatile.Read(ref _count);
        while (count != Retired)
        {
            var seen = Interlocked.CompareExchange(ref _count, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    /// <summary>Leaves, once per successful <see cref="TryEnter"/>.</summary>
    public void Exit() => Interlocked.Decrement(ref _count);

    /// <summary>Retires the pins if no read holds them (true), so they can be dropped.</summary>
    public bool TryRetire() => Interlocked.CompareExchange(ref _count, Retired, 0) == 0;
}
