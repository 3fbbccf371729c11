using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace SlateSharp.Memtable;

/// <summary>Hints to the processor about skip-list nodes about to be read.</summary>
internal static unsafe class NodeMemory
{
    /// <summary>The cache lines a node of a typical row spans: its links, fields, key and a value of ~100 bytes.</summary>
    private const int LinesAhead = 3;

    private const int LineBytes = 64;

    /// <summary>
    /// Asks for the cache lines from <paramref name="node"/> on. A hint only: it never faults, so an address the
    /// collector has since moved (a managed arena's array) costs a wasted fetch, not a wrong read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(ref byte node)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        var at = (byte*)Unsafe.AsPointer(ref node);
        for (var line = 0; line < LinesAhead; line++)
        {
            Sse.Prefetch0(at + (line * LineBytes));
        }
    }
}
