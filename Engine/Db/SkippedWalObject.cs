namespace SlateSharp;

/// <summary>A corrupt WAL object that opening with <see cref="DbOptions.SkipCorruptWalTail"/> left out of replay.</summary>
/// <param name="Path">The object's path under the database, e.g. <c>wal/00000000000000000042.sst</c>.</param>
/// <param name="Size">Its size in bytes: the writes it held are lost.</param>
/// <param name="Reason">Why it could not be read (the Data error's message).</param>
public sealed record SkippedWalObject(string Path, long Size, string Reason);
