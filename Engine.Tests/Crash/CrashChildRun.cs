namespace SlateSharp.Tests.Crash;

/// <summary>
/// The crash child's writing: several writer tasks, each owning its keys and making one call at a time, logged
/// before each call and after each answer; optionally a close racing them (by one or two concurrent closers, logged
/// as writers -1 and -2). Writers stop only on a failure: a Closed error once the planned close began, or a Fenced
/// one (the parent opened the database: a takeover cycle), is expected, and the call's outcome is then unknown, as
/// it is for a kill; anything else fails the child.
/// </summary>
internal sealed class CrashChildRun(SlateSharp.Db db, AckLog log, CrashChildArgs args)
{
    private readonly TaskCompletionSource _closeDue = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ops;
    private volatile bool _closing;

    public async Task RunAsync()
    {
        var writers = args.Workload == CrashWorkload.Prefill
            ? [Task.Run(() => WriterAsync(0, PrefillOp))]
            : Enumerable.Range(0, args.Writers).Select(w => Task.Run(() => WriterAsync(w, MixedOp))).ToArray();
        var work = CloseAndJoinAsync(writers);
        await await Task.WhenAny(work, _failed.Task);
    }

    private async Task CloseAndJoinAsync(Task[] writers)
    {
        if (args.CloseAfterOps > 0)
        {
            await _closeDue.Task;
            _closing = true;
            await Task.WhenAll(args.ConcurrentClose ? [CloseAsync(-1), CloseAsync(-2)] : [CloseAsync(-1)]);
        }

        await Task.WhenAll(writers);
    }

    private async Task CloseAsync(int closer)
    {
        await Task.Yield();
        log.Start(closer, 0, OpKind.Close, awaitDurable: true, []);
        try
        {
            await db.CloseAsync();
        }
        catch (Exception e)
        {
            log.Failed(closer, 0, e);
            throw new InvalidOperationException($"close {closer} failed: {e.Message}", e);
        }

        log.Acknowledged(closer, 0);
    }

    private async Task WriterAsync(int writer, Func<Random, int, int, (OpKind, bool, KeyWrite[])> next)
    {
        var random = new Random(unchecked((args.Seed * 31) + writer));
        var prefillKey = args.Cycle * 10_000_000;
        for (var op = 0; ; op++)
        {
            var (kind, durable, writes) = next(random, op, prefillKey);
            if (kind == OpKind.Put && args.Workload == CrashWorkload.Prefill)
            {
                prefillKey++;
            }

            log.Start(writer, op, kind, durable, writes);
            try
            {
                await CallAsync(writer, op, kind, durable, writes);
                log.Acknowledged(writer, op);
            }
            catch (SlateSharpException e) when (e.Kind == ErrorKind.Closed && (_closing || e.IsFenced))
            {
                log.Failed(writer, op, e);
                return;
            }
            catch (Exception e)
            {
                log.Failed(writer, op, e);
                _failed.TrySetException(new InvalidOperationException($"writer {writer} op {op} ({AckLog.KindName(kind)}) failed: {e.Message}", e));
                return;
            }

            if (Interlocked.Increment(ref _ops) == args.CloseAfterOps)
            {
                _closeDue.TrySetResult();
            }
        }
    }

    private ValueTask CallAsync(int writer, int op, OpKind kind, bool durable, KeyWrite[] writes)
    {
        var options = durable ? WriteOptions.Default : WriteOptions.NoWait;
        switch (kind)
        {
            case OpKind.Put:
                return db.PutAsync(Key(writer, writes[0]), Value(writer, op, writes[0]), options);
            case OpKind.Delete:
                return db.DeleteAsync(Key(writer, writes[0]), options);
            case OpKind.Batch:
                var batch = new WriteBatch();
                foreach (var write in writes)
                {
                    if (write.IsDelete)
                    {
                        batch.Delete(Key(writer, write));
                    }
                    else
                    {
                        batch.Put(Key(writer, write), Value(writer, op, write));
                    }
                }

                return db.WriteAsync(batch, options);
            case OpKind.FlushWal:
                return db.FlushAsync();
            default:
                return db.FlushAsync(new FlushOptions { Kind = FlushKind.Memtable });
        }
    }

    /// <summary>The mixed workload: puts and deletes (durable or not), batches of 2-5 keys, WAL and memtable flushes.</summary>
    private (OpKind, bool, KeyWrite[]) MixedOp(Random random, int op, int unused)
    {
        var roll = random.Next(100);
        var durable = random.Next(2) == 0;
        return roll switch
        {
            < 55 => (OpKind.Put, durable, [new KeyWrite(random.Next(args.KeysPerWriter), Padding(random))]),
            < 68 => (OpKind.Delete, durable, [new KeyWrite(random.Next(args.KeysPerWriter), -1)]),
            < 90 => (OpKind.Batch, durable, BatchWrites(random)),
            < 97 => (OpKind.FlushWal, true, []),
            _ => (OpKind.FlushMemtable, true, []),
        };
    }

    /// <summary>The prefill: new keys in order, memtable-acknowledged; a WAL flush every ~2,000 and a memtable flush every ~9,000 calls.</summary>
    private static (OpKind, bool, KeyWrite[]) PrefillOp(Random random, int op, int nextKey)
    {
        var roll = random.Next(9_000);
        return roll switch
        {
            0 => (OpKind.FlushMemtable, true, []),
            < 5 => (OpKind.FlushWal, true, []),
            _ => (OpKind.Put, false, [new KeyWrite(nextKey, random.Next(20, 120))]),
        };
    }

    private KeyWrite[] BatchWrites(Random random)
    {
        var count = random.Next(2, 6);
        var keys = new HashSet<int>();
        while (keys.Count < count)
        {
            keys.Add(random.Next(args.KeysPerWriter));
        }

        return [.. keys.Select(k => new KeyWrite(k, random.Next(5) == 0 ? -1 : Padding(random)))];
    }

    private static int Padding(Random random) => random.Next(16, 480);

    private static byte[] Key(int writer, KeyWrite write) => System.Text.Encoding.ASCII.GetBytes(CrashValues.Key(writer, write.Key));

    private byte[] Value(int writer, int op, KeyWrite write) => CrashValues.Value(args.Cycle, writer, op, write.Key, write.Padding);
}
