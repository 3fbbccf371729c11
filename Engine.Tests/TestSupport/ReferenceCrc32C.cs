namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// CRC-32C one byte at a time through a 256-entry table built from the reflected polynomial 0x82F63B78: slow, and
/// shares no code with the CRC32 instruction or System.IO.Hashing, so it can referee between them.
/// </summary>
internal static class ReferenceCrc32C
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = ~0u;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var i = 0u; i < 256; i++)
        {
            var entry = i;
            for (var bit = 0; bit < 8; bit++)
            {
                entry = (entry & 1) != 0 ? (entry >> 1) ^ 0x82F63B78u : entry >> 1;
            }

            table[i] = entry;
        }

        return table;
    }
}
