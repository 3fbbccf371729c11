using System.Text;

namespace SlateSharp;

/// <summary>
/// <c>string</c> keys and values, stored as UTF-8: a convenience over the byte API. Its cost is one UTF-8 encoding of
/// the key and value per write (a new array each) and one decoding per read; keys compare and sort by their UTF-8
/// bytes (ordinal order for most text, not culture order). Code on a hot path keeps its keys as bytes.
/// </summary>
public static class StringConveniences
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, both UTF-8.</summary>
    public static ValueTask PutAsync(this Db db, string key, string value, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return db.PutAsync(Utf8.GetBytes(key), Utf8.GetBytes(value), options, cancellationToken);
    }

    /// <summary>Removes <paramref name="key"/> (UTF-8).</summary>
    public static ValueTask DeleteAsync(this Db db, string key, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(key);
        return db.DeleteAsync(Utf8.GetBytes(key), options, cancellationToken);
    }

    /// <summary>Deletes every key in [<paramref name="startInclusive"/>, <paramref name="endExclusive"/>), compared as UTF-8 bytes.</summary>
    public static ValueTask DeleteRangeAsync(this Db db, string startInclusive, string endExclusive, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(startInclusive);
        ArgumentNullException.ThrowIfNull(endExclusive);
        return db.DeleteRangeAsync(Utf8.GetBytes(startInclusive), Utf8.GetBytes(endExclusive), options, cancellationToken);
    }

    /// <summary>Merges <paramref name="operand"/> into <paramref name="key"/>, both UTF-8 (<see cref="Db.MergeAsync"/>).</summary>
    public static ValueTask MergeAsync(this Db db, string key, string operand, WriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(operand);
        return db.MergeAsync(Utf8.GetBytes(key), Utf8.GetBytes(operand), options, cancellationToken);
    }

    /// <summary>The value of <paramref name="key"/> decoded from UTF-8, or null when absent or deleted.</summary>
    /// <exception cref="SlateSharpException"><see cref="ErrorKind.Invalid"/> when the stored value is not valid UTF-8.</exception>
    public static async ValueTask<string?> GetStringAsync(this Db db, string key, ReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(key);
        return Decode(key, await db.GetAsync(Utf8.GetBytes(key), options, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The value of <paramref name="key"/> decoded from UTF-8, as the reader sees it now, or null.</summary>
    /// <exception cref="SlateSharpException"><see cref="ErrorKind.Invalid"/> when the stored value is not valid UTF-8.</exception>
    public static async ValueTask<string?> GetStringAsync(this DbReader reader, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(key);
        return Decode(key, await reader.GetAsync(Utf8.GetBytes(key), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Every key starting with <paramref name="prefix"/> (UTF-8), as <see cref="Db.ScanPrefixAsync"/>.</summary>
    public static IAsyncEnumerable<KeyValue> ScanPrefixAsync(this Db db, string prefix, ScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(prefix);
        return db.ScanPrefixAsync(Utf8.GetBytes(prefix), options, cancellationToken);
    }

    /// <summary>Every key starting with <paramref name="prefix"/> (UTF-8), as <see cref="DbReader.ScanPrefixAsync"/>.</summary>
    public static IAsyncEnumerable<KeyValue> ScanPrefixAsync(this DbReader reader, string prefix, ScanOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(prefix);
        return reader.ScanPrefixAsync(Utf8.GetBytes(prefix), options, cancellationToken);
    }

    /// <summary>Adds a put of <paramref name="key"/> to <paramref name="value"/>, both UTF-8.</summary>
    public static WriteBatch Put(this WriteBatch batch, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return batch.Put(Utf8.GetBytes(key), Utf8.GetBytes(value));
    }

    /// <summary>Adds a merge of <paramref name="operand"/> into <paramref name="key"/>, both UTF-8.</summary>
    public static WriteBatch Merge(this WriteBatch batch, string key, string operand)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(operand);
        return batch.Merge(Utf8.GetBytes(key), Utf8.GetBytes(operand));
    }

    /// <summary>Adds a delete of <paramref name="key"/> (UTF-8).</summary>
    public static WriteBatch Delete(this WriteBatch batch, string key)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(key);
        return batch.Delete(Utf8.GetBytes(key));
    }

    /// <summary>The key of a scanned row decoded from UTF-8.</summary>
    public static string KeyString(this KeyValue row) => Utf8.GetString(row.Key.Span);

    /// <summary>The value of a scanned row decoded from UTF-8.</summary>
    public static string ValueString(this KeyValue row) => Utf8.GetString(row.Value.Span);

    private static string? Decode(string key, byte[]? value)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return Utf8.GetString(value);
        }
        catch (DecoderFallbackException e)
        {
            throw Errors.Invalid($"the value of key '{key}' is not UTF-8 text; read it as bytes ({e.Message})");
        }
    }
}
