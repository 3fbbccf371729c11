namespace SlateSharp.Storage;

/// <summary>A parsed store URL: scheme, authority (bucket or memory name) and path (prefix or directory).</summary>
internal sealed record StoreUrl(string Scheme, string Authority, string Path)
{
    public const string MemoryScheme = "memory";
    public const string FileScheme = "file";
    public const string S3Scheme = "s3";
    public const string GcsScheme = "gs";

    public static StoreUrl Parse(string url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw Errors.Invalid("store url is empty; expected memory://name, file:///path, s3://bucket/prefix or gs://bucket/prefix");
        }

        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw Errors.Invalid($"store url has no scheme; expected memory://name, file:///path, s3://bucket/prefix or gs://bucket/prefix (url={url})");
        }

        var scheme = url[..separator].ToLowerInvariant();
        var rest = url[(separator + 3)..];
        return scheme switch
        {
            MemoryScheme => ParseMemory(url, rest),
            FileScheme => ParseFile(url, rest),
            S3Scheme or GcsScheme => ParseBucket(url, scheme, rest),
            _ => throw Errors.Invalid($"unsupported store url scheme '{scheme}'; expected memory, file, s3 or gs (url={url})"),
        };
    }

    private static StoreUrl ParseMemory(string url, string rest)
    {
        if (rest.Length == 0 || rest.Contains('/', StringComparison.Ordinal))
        {
            throw Errors.Invalid($"memory store url needs a name without '/', e.g. memory://test (url={url})");
        }

        return new StoreUrl(MemoryScheme, rest, string.Empty);
    }

    private static StoreUrl ParseFile(string url, string rest)
    {
        // file:///abs/path (empty host) or file://localhost/abs/path.
        if (rest.StartsWith("localhost/", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest["localhost".Length..];
        }

        if (!rest.StartsWith('/'))
        {
            throw Errors.Invalid($"file store url needs an absolute path, e.g. file:///var/data/db (url={url})");
        }

        string path;
        try
        {
            path = Uri.UnescapeDataString(rest);
        }
        catch (UriFormatException e)
        {
            throw Errors.Invalid($"file store url has a bad escape (url={url})", e);
        }

        if (path.Any(char.IsControl))
        {
            throw Errors.Invalid($"file store url must not contain a control character such as %00 or %0A (url={url})");
        }

        if (path.Split('/').Any(segment => segment is "." or ".."))
        {
            throw Errors.Invalid($"file store url must not contain '.' or '..' segments (url={url})");
        }

        return new StoreUrl(FileScheme, string.Empty, path.Length > 1 ? path.TrimEnd('/') : path);
    }

    private static StoreUrl ParseBucket(string url, string scheme, string rest)
    {
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? string.Empty : rest[(slash + 1)..].Trim('/');
        if (bucket.Length == 0)
        {
            throw Errors.Invalid($"{scheme} store url needs a bucket, e.g. {scheme}://my-bucket/my-db (url={url})");
        }

        if (prefix.Length > 0)
        {
            ObjectPath.Parse(prefix);
        }

        return new StoreUrl(scheme, bucket, prefix);
    }
}
