namespace SlateSharp.Storage;

/// <summary>
/// Maps store paths to the keys of a bucket under an optional prefix (<c>s3://bucket/prefix</c>), and back. Keys that
/// are not valid paths, or that carry a reserved segment (the open-time probe object), are not part of the store.
/// </summary>
internal sealed class BucketKeys
{
    public BucketKeys(string bucket, string prefix)
    {
        Bucket = bucket;
        KeyPrefix = prefix.Length == 0 ? string.Empty : prefix.Trim('/') + "/";
    }

    public string Bucket { get; }

    /// <summary>The prefix every key starts with: empty, or ending in '/'.</summary>
    public string KeyPrefix { get; }

    public string Key(ObjectPath path) => KeyPrefix + path.Value;

    public string ListPrefix(string prefix) => KeyPrefix + ObjectPath.ValidatePrefix(prefix);

    /// <summary>A key no store path can name (its segment starts with the reserved prefix).</summary>
    public string ProbeKey(string id) => KeyPrefix + ObjectPath.ReservedPrefix + "-probe-" + id;

    /// <summary>The store path of <paramref name="key"/>, or null when the key is not one of the store's objects.</summary>
    public ObjectPath? PathOf(string key)
    {
        if (!key.StartsWith(KeyPrefix, StringComparison.Ordinal) || key.Length == KeyPrefix.Length)
        {
            return null;
        }

        try
        {
            return ObjectPath.Parse(key[KeyPrefix.Length..]);
        }
        catch (SlateSharpException)
        {
            return null;
        }
    }

    /// <summary>The URL of the store, e.g. <c>s3://bucket/prefix</c>.</summary>
    public string Location(string scheme) => $"{scheme}://{Bucket}/{KeyPrefix.TrimEnd('/')}".TrimEnd('/');
}
