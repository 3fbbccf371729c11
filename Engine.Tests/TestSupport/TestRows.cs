using SlateSharp.Format;

namespace SlateSharp.Tests.TestSupport;

/// <summary>Builds sorted row sets for SST tests.</summary>
internal static class TestRows
{
    /// <summary>Key "key-000123" style rows, one version each, sequence = index + 1.</summary>
    public static List<RowEntry> Sequential(int count, int valueLength = 16, string prefix = "key-")
    {
        var rows = new List<RowEntry>(count);
        for (var i = 0; i < count; i++)
        {
            var key = System.Text.Encoding.ASCII.GetBytes($"{prefix}{i:D6}");
            var value = new byte[valueLength];
            for (var j = 0; j < value.Length; j++)
            {
                value[j] = (byte)(i + j);
            }

            rows.Add(RowEntry.Put(key, value, (ulong)i + 1));
        }

        return rows;
    }

    /// <summary>
    /// Random keys with 1..versions versions each, random kinds and expiry, sorted in internal order. The golden files
    /// are built with this: changing it means regenerating them (docs/format/README.md).
    /// </summary>
    public static List<RowEntry> Random(Random random, int keys, int maxVersions, int maxKeyLength = 24, int maxValueLength = 64)
    {
        var distinct = new SortedSet<byte[]>(Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)));
        while (distinct.Count < keys)
        {
            var key = new byte[random.Next(1, maxKeyLength + 1)];
            random.NextBytes(key);
            distinct.Add(key);
        }

        var rows = new List<RowEntry>();
        ulong sequence = 1;
        foreach (var key in distinct)
        {
            var versions = random.Next(1, maxVersions + 1);
            var sequences = new SortedSet<ulong>();
            while (sequences.Count < versions)
            {
                sequences.Add(sequence + (ulong)random.Next(0, 1000));
            }

            foreach (var seq in sequences.Reverse())
            {
                var kind = (RowKind)random.Next(0, 3);
                var value = kind == RowKind.Delete ? [] : new byte[random.Next(0, maxValueLength + 1)];
                random.NextBytes(value);
                long? expire = random.Next(4) == 0 ? random.NextInt64() : null;
                rows.Add(new RowEntry(key, value, seq, kind, expire));
            }

            sequence += 1000;
        }

        return rows;
    }
}
