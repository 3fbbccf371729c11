using SlateSharp.Storage;

namespace SlateSharp.Tests.Storage;

public sealed class ObjectPathTests
{
    [TestCase("wal/00000000000000000001.sst")]
    [TestCase("a")]
    [TestCase("a.b/c-d_e")]
    [TestCase("unicode/日本語")]
    [TestCase(".hidden/but-allowed")]
    public void Valid_paths_parse(string value) => Assert.That(ObjectPath.Parse(value).Value, Is.EqualTo(value));

    [TestCase("", "empty")]
    [TestCase("/leading", "empty segment")]
    [TestCase("trailing/", "empty segment")]
    [TestCase("a//b", "empty segment")]
    [TestCase("a/../b", "'.' or '..'")]
    [TestCase("..", "'.' or '..'")]
    [TestCase("./a", "'.' or '..'")]
    [TestCase("a\\b", "backslash")]
    [TestCase("a\nb", "control character")]
    [TestCase(".slatesharp-tmp-1", "reserved prefix")]
    [TestCase("x/.slatesharp-lock-0", "reserved prefix")]
    public void Invalid_paths_are_rejected_with_the_reason_and_the_path(string value, string reason)
    {
        var error = Assert.Throws<SlateSharpException>(() => ObjectPath.Parse(value));

        Assert.That(error!.Kind, Is.EqualTo(ErrorKind.Invalid));
        Assert.That(error.Message, Does.Contain(reason));
        Assert.That(error.Message, Does.Contain("path="));
    }

    [Test]
    public void Unpaired_surrogates_are_rejected()
    {
        var value = "bad" + (char)0xD800 + "surrogate";

        Assert.That(Assert.Throws<SlateSharpException>(() => ObjectPath.Parse(value))!.Message, Does.Contain("unpaired surrogate"));
    }

    [Test]
    public void Paths_longer_than_s3_allows_are_rejected()
    {
        var error = Assert.Throws<SlateSharpException>(() => ObjectPath.Parse(new string('x', 1025)));

        Assert.That(error!.Message, Does.Contain("longer than 1024 bytes"));
    }

    [TestCase("")]
    [TestCase("wal/")]
    [TestCase("manifest/0000")]
    [TestCase("a")]
    public void Valid_list_prefixes(string prefix) => Assert.That(ObjectPath.ValidatePrefix(prefix), Is.EqualTo(prefix));

    [TestCase("/")]
    [TestCase("a//")]
    [TestCase("../")]
    public void Invalid_list_prefixes(string prefix) =>
        Assert.That(Assert.Throws<SlateSharpException>(() => ObjectPath.ValidatePrefix(prefix))!.Kind, Is.EqualTo(ErrorKind.Invalid));
}
