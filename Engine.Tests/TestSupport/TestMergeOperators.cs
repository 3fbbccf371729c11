using System.Buffers.Binary;
using System.Text;

namespace SlateSharp.Tests.TestSupport;

/// <summary>A counter: values and operands are 8-byte little-endian integers, and merging adds them.</summary>
public sealed class CounterMergeOperator : IMergeOperator
{
    public static byte[] Encode(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static long Decode(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadInt64LittleEndian(bytes);

    public ReadOnlyMemory<byte> FullMerge(ReadOnlySpan<byte> key, ReadOnlyMemory<byte>? existingValue, ReadOnlySpan<ReadOnlyMemory<byte>> operands)
    {
        var sum = existingValue is { } existing ? Decode(existing.Span) : 0;
        foreach (var operand in operands)
        {
            sum += Decode(operand.Span);
        }

        return Encode(sum);
    }

    public bool TryPartialMerge(ReadOnlySpan<byte> key, ReadOnlySpan<ReadOnlyMemory<byte>> operands, out ReadOnlyMemory<byte> merged)
    {
        merged = FullMerge(key, null, operands);
        return true;
    }
}

/// <summary>
/// Appends UTF-8 operands to the value, comma separated. Partial merge combines operands only while the result stays
/// short (<paramref name="partialLimit"/> bytes; 0 declines always), so tests see both answers.
/// </summary>
public sealed class AppendMergeOperator(int partialLimit = 16) : IMergeOperator
{
    public ReadOnlyMemory<byte> FullMerge(ReadOnlySpan<byte> key, ReadOnlyMemory<byte>? existingValue, ReadOnlySpan<ReadOnlyMemory<byte>> operands)
    {
        var parts = new List<string>();
        if (existingValue is { } existing)
        {
            parts.Add(Encoding.UTF8.GetString(existing.Span));
        }

        foreach (var operand in operands)
        {
            parts.Add(Encoding.UTF8.GetString(operand.Span));
        }

        return Encoding.UTF8.GetBytes(string.Join(",", parts));
    }

    public bool TryPartialMerge(ReadOnlySpan<byte> key, ReadOnlySpan<ReadOnlyMemory<byte>> operands, out ReadOnlyMemory<byte> merged)
    {
        merged = FullMerge(key, null, operands);
        return merged.Length <= partialLimit;
    }
}

/// <summary>An operator that breaks its contract: it throws from both methods.</summary>
public sealed class ThrowingMergeOperator : IMergeOperator
{
    public ReadOnlyMemory<byte> FullMerge(ReadOnlySpan<byte> key, ReadOnlyMemory<byte>? existingValue, ReadOnlySpan<ReadOnlyMemory<byte>> operands) =>
        throw new FormatException("operand is not a number");

    public bool TryPartialMerge(ReadOnlySpan<byte> key, ReadOnlySpan<ReadOnlyMemory<byte>> operands, out ReadOnlyMemory<byte> merged) =>
        throw new FormatException("operand is not a number");
}
