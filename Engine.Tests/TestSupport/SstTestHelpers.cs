using SlateSharp.Format;
using SlateSharp.Sst;
using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

internal static class SstTestHelpers
{
    public static async Task<(byte[] Bytes, SstInfo Info)> BuildAsync(IEnumerable<RowEntry> rows, SstBuilderOptions? options = null)
    {
        using var stream = new MemoryStream();
        using var builder = new SstBuilder(options ?? SstBuilderOptions.Default, stream);
        foreach (var row in rows)
        {
            await builder.AddAsync(row);
        }

        var info = await builder.FinishAsync();
        return (stream.ToArray(), info);
    }

    public static async Task<(SstReader Reader, CountingObjectStore Store, SstInfo Info)> BuildAndOpenAsync(
        IEnumerable<RowEntry> rows, SstBuilderOptions? options = null, BlockCache? cache = null, string path = "compacted/test.sst")
    {
        var (bytes, info) = await BuildAsync(rows, options);
        var store = new CountingObjectStore(new SlateSharp.Storage.InMemory.InMemoryObjectStore());
        var objectPath = ObjectPath.Parse(path);
        await store.PutAsync(objectPath, bytes, PutMode.Overwrite);
        var reader = await SstReader.OpenAsync(store, objectPath, cache);
        return (reader, store, info);
    }

    public static async Task<List<RowEntry>> ReadAllAsync(SstReader reader)
    {
        var rows = new List<RowEntry>();
        var iterator = reader.CreateIterator();
        while (await iterator.MoveNextAsync())
        {
            rows.Add(iterator.Current);
        }

        return rows;
    }
}
