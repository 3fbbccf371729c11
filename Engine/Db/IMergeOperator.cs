namespace SlateSharp;

/// <summary>
/// Combines merge operands (<see cref="Db.MergeAsync"/>) with the value below them: a counter adds, a list appends.
/// Reads, scans, memtable flushes and compaction all call it (docs/usage.md, "Merge operator").
/// </summary>
/// <remarks>
/// Contract:
/// <list type="bullet">
/// <item>Deterministic: the same key and inputs give the same bytes, in every process and every version of the
/// application that opens the database. Reads merge on the fly and compaction stores merged results, so an
/// operator that changes its answer changes what was already stored.</item>
/// <item>Composable: <c>FullMerge(FullMerge(v, a), b)</c> equals <c>FullMerge(v, a + b)</c> for operand lists a and
/// b, and <see cref="TryPartialMerge"/> is associative with it: merging its result onto a value gives what merging
/// the operands it combined would. Flushes and compaction rely on this when they fold operands into a value. It may decline (return false) at any time; the operands are
/// then kept and merged later.</item>
/// <item>It must not throw. If it does anyway, a read of that key fails with an <see cref="ErrorKind.Invalid"/>
/// <see cref="SlateSharpException"/> naming the key (the exception as <c>InnerException</c>), a write batch that
/// needed it fails the same way and applies nothing, and a flush or compaction keeps the rows unmerged (so a later
/// read reports the error) rather than failing. Nothing is ever stored or returned half merged.</item>
/// <item>It may be called concurrently from several threads.</item>
/// </list>
/// Operands and values are handed over as memory that stays valid only for the call; a result may be a new array or
/// a slice of anything that stays unchanged afterwards.
/// </remarks>
public interface IMergeOperator
{
    /// <summary>
    /// The value of <paramref name="key"/> after applying <paramref name="operands"/> (oldest first, at least one) to
    /// <paramref name="existingValue"/>, which is null when the key has no value (never written, deleted, expired).
    /// </summary>
    ReadOnlyMemory<byte> FullMerge(ReadOnlySpan<byte> key, ReadOnlyMemory<byte>? existingValue, ReadOnlySpan<ReadOnlyMemory<byte>> operands);

    /// <summary>
    /// Combines two or more adjacent <paramref name="operands"/> (oldest first) into one operand with the same effect,
    /// or returns false to keep them apart (for example when their combination is not itself an operand).
    /// </summary>
    bool TryPartialMerge(ReadOnlySpan<byte> key, ReadOnlySpan<ReadOnlyMemory<byte>> operands, out ReadOnlyMemory<byte> merged);
}
