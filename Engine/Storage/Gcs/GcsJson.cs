using System.Globalization;
using System.Text.Json;

namespace SlateSharp.Storage.Gcs;

/// <summary>The fields of a GCS object resource the store uses.</summary>
internal sealed record GcsObject(string Name, long Size, string Generation, DateTimeOffset Updated, string? PutId);

/// <summary>Reads and writes the few JSON documents of the GCS JSON API the store exchanges (no reflection: AOT-safe).</summary>
internal static class GcsJson
{
    public const string PutIdKey = "slatesharp-put-id";

    /// <summary>Parses an object resource (<c>{"name":..,"size":"..","generation":"..",...}</c>).</summary>
    public static GcsObject ParseObject(JsonElement element, string key)
    {
        var name = element.TryGetProperty("name", out var n) ? n.GetString() : null;
        var generation = element.TryGetProperty("generation", out var g) ? g.ToString() : null;
        if (name is null || generation is null || !element.TryGetProperty("size", out var sizeElement)
            || !long.TryParse(sizeElement.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw Errors.Data(key, "gcs answered with an object resource lacking name, size or generation");
        }

        var updated = element.TryGetProperty("updated", out var u) && u.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(u.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : DateTimeOffset.UnixEpoch;
        string? putId = null;
        if (element.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty(PutIdKey, out var id) && id.ValueKind == JsonValueKind.String)
        {
            putId = id.GetString();
        }

        return new GcsObject(name, size, generation, updated, putId);
    }

    public static async ValueTask<GcsObject> ReadObjectAsync(HttpContent content, string key, CancellationToken cancellationToken)
    {
        using var document = await ParseAsync(content, key, cancellationToken).ConfigureAwait(false);
        return ParseObject(document.RootElement, key);
    }

    public static async ValueTask<JsonDocument> ParseAsync(HttpContent content, string key, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await JsonDocument.ParseAsync(stream, default, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw Errors.Data(key, "gcs answered with malformed json", e);
            }
        }
    }

    /// <summary>The metadata document of an upload: the object name and, when given, the put id.</summary>
    public static byte[] UploadMetadata(string key, string? putId)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", key);
            writer.WriteString("contentType", "application/octet-stream");
            if (putId is not null)
            {
                writer.WriteStartObject("metadata");
                writer.WriteString(PutIdKey, putId);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The <c>error.message</c> of an error response, or a prefix of its body.</summary>
    public static async ValueTask<string> ErrorMessageAsync(HttpContent content, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return "(no body)";
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var message))
            {
                return message.ToString();
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }

        return text.Length > 200 ? text[..200] : text;
    }
}
