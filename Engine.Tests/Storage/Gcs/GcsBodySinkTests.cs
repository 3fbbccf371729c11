using SlateSharp.Storage.Gcs;

namespace SlateSharp.Tests.Storage.Gcs;

/// <summary>The buffer a GCS read writes its body into: skipping to the range, and counting what does not fit.</summary>
public sealed class GcsBodySinkTests
{
    private static byte[] Body(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();

    [TestCase(0, 1)]
    [TestCase(0, 64)]
    [TestCase(37, 5)]
    [TestCase(37, 1000)]
    [TestCase(300, 64)]
    public async Task The_bytes_after_the_skip_fill_the_buffer_however_the_body_is_cut(int skip, int piece)
    {
        var body = Body(400);
        var buffer = new byte[50];
        await using var sink = new GcsBodySink(buffer.AsMemory()) { Skip = skip };

        for (var at = 0; at < body.Length; at += piece)
        {
            await sink.WriteAsync(body.AsMemory(at, Math.Min(piece, body.Length - at)));
        }

        var kept = Math.Min(buffer.Length, body.Length - skip);
        Assert.That(sink.Received, Is.EqualTo(body.Length));
        Assert.That(sink.Written.ToArray(), Is.EqualTo(body[skip..(skip + kept)]), $"skip={skip} piece={piece}");
        Assert.That(sink.Overflow, Is.EqualTo(body.Length - skip - kept));
    }

    [Test]
    public async Task A_body_that_ends_before_the_skip_keeps_nothing()
    {
        var buffer = new byte[10];
        await using var sink = new GcsBodySink(buffer.AsMemory()) { Skip = 100 };

        await sink.WriteAsync(Body(60));

        Assert.That(sink.Written.Length, Is.Zero);
        Assert.That((sink.Received, sink.Overflow), Is.EqualTo((60L, 0L)));
    }
}
