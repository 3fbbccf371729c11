using System.Globalization;
using System.Text;

namespace SlateSharp.Tests.Crash;

/// <summary>
/// Keys and values of the kill test. A key names its writer (each writer owns its keys, so the order of writes to a
/// key is that writer's order); a value names the write that made it (cycle, writer, operation, key) and is padded
/// with bytes derived from that name, so the checker can tell for any value read back exactly which write produced
/// it, and that it came back whole.
/// </summary>
internal static class CrashValues
{
    public static string Key(int writer, int key) => string.Create(CultureInfo.InvariantCulture, $"w{writer:D2}-{key:D9}");

    public static bool TryParseKey(string text, out int writer, out int key)
    {
        writer = key = -1;
        return text.Length == 13 && text[0] == 'w' && text[3] == '-'
            && int.TryParse(text.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out writer)
            && int.TryParse(text.AsSpan(4, 9), NumberStyles.None, CultureInfo.InvariantCulture, out key);
    }

    public static byte[] Value(int cycle, int writer, int op, int key, int padding)
    {
        var header = Header(cycle, writer, op, key);
        var value = new byte[header.Length + padding];
        Encoding.ASCII.GetBytes(header, value);
        var state = (uint)((cycle * 73_856_093) ^ (writer * 19_349_663) ^ (op * 83_492_791) ^ key);
        for (var i = header.Length; i < value.Length; i++)
        {
            state = (state * 1_103_515_245) + 12_345;
            value[i] = (byte)('a' + ((state >> 16) % 26));
        }

        return value;
    }

    /// <summary>Reads the name of the write a value claims to come from; false when it is not a value of this test.</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out ValueName name)
    {
        name = default;
        var end = value.IndexOf((byte)'|');
        if (end < 0)
        {
            return false;
        }

        var parts = Encoding.ASCII.GetString(value[..end]).Split('.');
        if (parts.Length != 4 || !Number(parts[0], 'c', out var cycle) || !Number(parts[1], 'w', out var writer)
            || !Number(parts[2], 'o', out var op) || !Number(parts[3], 'k', out var key))
        {
            return false;
        }

        name = new ValueName(cycle, writer, op, key, value.Length - end - 1);
        return true;
    }

    private static string Header(int cycle, int writer, int op, int key) =>
        string.Create(CultureInfo.InvariantCulture, $"c{cycle}.w{writer}.o{op}.k{key}|");

    private static bool Number(string part, char tag, out int number)
    {
        number = -1;
        return part.Length > 1 && part[0] == tag && int.TryParse(part.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }
}

/// <summary>The write a value names: cycle, writer, operation number, key number, padding length.</summary>
internal readonly record struct ValueName(int Cycle, int Writer, int Op, int Key, int Padding)
{
    public byte[] Expected() => CrashValues.Value(Cycle, Writer, Op, Key, Padding);

    public override string ToString() => $"cycle {Cycle} writer {Writer} op {Op} key {Key}";
}
