using System.Diagnostics.CodeAnalysis;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace SlateSharp.Format;

/// <summary>
/// A bounds-checked little-endian reader over a span. Every read past the end, and every failed
/// <see cref="Require"/>, throws the engine's <see cref="ErrorKind.Data"/> error naming the object and the absolute
/// offset, so decoders never index out of range and never allocate from an unchecked length.
/// </summary>
internal ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _path;
    private readonly long _baseOffset;
    private readonly string _what;

    /// <summary>Reads <paramref name="data"/>, which starts at <paramref name="baseOffset"/> of object <paramref name="path"/>.</summary>
    public SpanReader(ReadOnlySpan<byte> data, string path, long baseOffset, string what)
    {
        _data = data;
        _path = path;
        _baseOffset = baseOffset;
        _what = what;
    }

    /// <summary>Position within the span.</summary>
    public int Position { get; private set; }

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _data.Length - Position;

    /// <summary>Absolute offset of <see cref="Position"/> in the object.</summary>
    public readonly long AbsoluteOffset => _baseOffset + Position;

    public byte ReadU8() => Take(1)[0];

    public ushort ReadU16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint ReadU32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadU64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public long ReadI64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>Reads a 32-bit varint.</summary>
    public uint ReadVarint()
    {
        var p = Position;
        if (!Varint.TryRead(_data, ref p, out var value))
        {
            throw Fail("bad varint");
        }

        Position = p;
        return value;
    }

    /// <summary>Reads a count of items that each take at least <paramref name="minItemBytes"/>; rejects counts the rest of the input cannot hold.</summary>
    public int ReadCount(int minItemBytes)
    {
        var at = Position;
        var count = ReadU32();
        if (count > (uint)(Remaining / Math.Max(1, minItemBytes)))
        {
            throw Errors.Data(_path, _baseOffset + at, $"{_what}: count {count} exceeds what the remaining {Remaining} bytes can hold");
        }

        return (int)count;
    }

    /// <summary>Returns the next <paramref name="length"/> bytes and moves past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Take(int length)
    {
        if ((uint)length > (uint)Remaining)
        {
            ThrowTruncated(length);
        }

        var span = _data.Slice(Position, length);
        Position += length;
        return span;
    }

    /// <summary>Throws a Data error at the current position unless <paramref name="condition"/> holds.</summary>
    public readonly void Require([DoesNotReturnIf(false)] bool condition, string message)
    {
        if (!condition)
        {
            throw Fail(message);
        }
    }

    /// <summary>A Data error at the current position.</summary>
    public readonly SlateSharpException Fail(string message) => Errors.Data(_path, AbsoluteOffset, $"{_what}: {message}");

    [DoesNotReturn]
    private readonly void ThrowTruncated(int wanted) =>
        throw Errors.Data(_path, AbsoluteOffset, $"{_what}: truncated (wanted={wanted} remaining={Remaining})");
}
