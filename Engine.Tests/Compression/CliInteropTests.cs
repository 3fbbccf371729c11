using System.Buffers.Binary;
using System.Diagnostics;
using SlateSharp.Compression;
using SlateSharp.Format;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Compression;

/// <summary>
/// Proves the native bindings are wired right: frames we write decode with the lz4 and zstd command line tools and
/// the tools' frames decode with ours. The tools come from the Debian packages lz4 and zstd (.ci/run installs them);
/// if they are missing these tests fail rather than skip.
/// </summary>
public sealed class CliInteropTests
{
    private string _directory = null!;

    [SetUp]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "slatesharp-interop-" + TestContext.CurrentContext.Test.ID);
        Directory.CreateDirectory(_directory);
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    private static byte[] Sample(int seed)
    {
        var random = new Random(seed);
        var data = new byte[300_000];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(random.Next(3) == 0 ? random.Next(256) : 'a' + (i % 13));
        }

        return data;
    }

    [Test]
    public void Lz4_frames_written_here_decode_with_the_lz4_tool_and_back()
    {
        var seed = TestSeeds.Get(91);
        var data = Sample(seed);
        var ours = Path.Combine(_directory, "ours.lz4");
        File.WriteAllBytes(ours, NativeLz4Frame.Compress(data));
        Assert.That(Run("lz4", "-d", "-c", ours), Is.EqualTo(data), $"seed={seed}");

        var plain = Path.Combine(_directory, "plain.bin");
        File.WriteAllBytes(plain, data);
        var theirs = Run("lz4", "-z", "-c", plain);
        Assert.That(NativeLz4Frame.Decompress(theirs, data.Length), Is.EqualTo(data), $"seed={seed}");
    }

    [Test]
    public void Zstd_frames_written_here_decode_with_the_zstd_tool_and_back()
    {
        var seed = TestSeeds.Get(92);
        var data = Sample(seed);
        var ours = Path.Combine(_directory, "ours.zst");
        var frame = ZstdFrame.Compress(data);
        File.WriteAllBytes(ours, frame);
        Assert.That(Run("zstd", "-d", "-c", "-q", ours), Is.EqualTo(data), $"seed={seed}");

        var plain = Path.Combine(_directory, "plain.bin");
        File.WriteAllBytes(plain, data);
        var theirs = Run("zstd", "-c", "-q", "--check", plain);
        Assert.That(ZstdFrame.Decompress(theirs, data.Length), Is.EqualTo(data), $"seed={seed}");

        // A zstd frame's checksum is the low 32 bits of XXH64 of the content: this cross-checks our bloom hash.
        var low = (uint)XxHash64.Hash(data);
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(theirs.AsSpan(theirs.Length - 4)), Is.EqualTo(low));
        Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(frame.Length - 4)), Is.EqualTo(low));
    }

    [Test]
    public void Corrupt_frames_are_data_errors()
    {
        var data = Sample(93);
        var lz4 = NativeLz4Frame.Compress(data);
        var zstd = ZstdFrame.Compress(data);
        Assert.That(() => NativeLz4Frame.Decompress(lz4.AsSpan(0, lz4.Length / 2), data.Length), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Data));
        Assert.That(() => ZstdFrame.Decompress(zstd.AsSpan(0, zstd.Length / 2), data.Length), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Data));
        Assert.That(() => NativeLz4Frame.Decompress(lz4, data.Length - 1), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Data));
        Assert.That(() => ZstdFrame.Decompress(zstd, data.Length - 1), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Data));
        zstd[zstd.Length / 2] ^= 0x10;
        Assert.That(() => ZstdFrame.Decompress(zstd, data.Length), Throws.TypeOf<SlateSharpException>().With.Property("Kind").EqualTo(ErrorKind.Data));
    }

    private static byte[] Run(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {tool}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"the '{tool}' command line tool is missing; install the Debian package '{tool}' (apt-get install {tool}): {e.Message}");
            throw;
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            using var output = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(output);
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, $"{tool} {string.Join(' ', arguments)} failed: {stderr.Result}");
            return output.ToArray();
        }
    }
}
