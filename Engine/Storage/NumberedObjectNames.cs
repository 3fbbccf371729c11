using System.Globalization;

namespace SlateSharp.Storage;

/// <summary>
/// Names of objects numbered 1, 2, 3… under a prefix, with the number zero-padded to 20 digits so that listing order
/// is numeric order: <c>manifest/00000000000000000007.manifest</c>, <c>wal/00000000000000000042.sst</c>.
/// </summary>
internal sealed class NumberedObjectNames(string prefix, string suffix)
{
    private const int Digits = 20;

    public string Prefix { get; } = prefix;

    public ObjectPath PathOf(ulong id) => ObjectPath.Parse(Prefix + id.ToString("D20", CultureInfo.InvariantCulture) + suffix);

    /// <summary>Parses the number out of a path; false for any other name under the prefix (or number 0).</summary>
    public bool TryParseId(ObjectPath path, out ulong id)
    {
        id = 0;
        var value = path.Value;
        return value.Length == Prefix.Length + Digits + suffix.Length &&
               value.StartsWith(Prefix, StringComparison.Ordinal) &&
               value.EndsWith(suffix, StringComparison.Ordinal) &&
               ulong.TryParse(value.AsSpan(Prefix.Length, Digits), NumberStyles.None, CultureInfo.InvariantCulture, out id) &&
               id > 0;
    }
}
