using System.Runtime.InteropServices;

namespace SlateSharp.Memtable;

/// <summary>
/// Native memory that goes back to the operating system the moment it is freed: on Linux an anonymous private mapping
/// of its own (<c>mmap</c>/<c>munmap</c>), so a freed memtable chunk leaves the working set at once rather than
/// staying in the C allocator's free lists; elsewhere the C allocator (<see cref="NativeMemory"/>).
/// </summary>
internal static unsafe partial class PageMemory
{
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const int MapPopulate = 0x8000; // fault every page in now: the arena writes the whole chunk
    private static readonly void* MapFailed = (void*)-1;

    /// <summary><paramref name="length"/> bytes, not cleared; <see cref="InsufficientMemoryException"/> when the system has none.</summary>
    public static byte* Allocate(int length)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (byte*)NativeMemory.Alloc((nuint)length);
        }

        var start = Mmap(null, (nuint)length, ProtReadWrite, MapPrivateAnonymous | MapPopulate, -1, 0);
        return start == MapFailed
            ? throw new InsufficientMemoryException($"mmap of a {length}-byte memtable chunk failed (errno {Marshal.GetLastPInvokeError()})")
            : (byte*)start;
    }

    /// <summary>Frees what <see cref="Allocate"/> returned, with the same length.</summary>
    public static void Free(byte* start, int length)
    {
        if (!OperatingSystem.IsLinux())
        {
            NativeMemory.Free(start);
            return;
        }

        // munmap fails only for an address or length that was never mapped: a bug here, not a condition to handle.
        if (Munmap(start, (nuint)length) != 0)
        {
            throw new InvalidOperationException($"munmap of a {length}-byte memtable chunk failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(void* address, nuint length);
}
