using System.Diagnostics;
using System.Globalization;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// The victim: opens a store on the given directory with <see cref="CommitStrategy.LockedRename"/> and creates one
/// large object, talking to the test over stdin/stdout: "locked" once it holds the directory lock (then it waits
/// for a line on stdin, so the test can queue a rival on the lock), "renaming" right before <c>rename()</c>, when it
/// also starts a thread that SIGKILLs the process after the given delay, and "published" if the rename returned in
/// time. It never exits on its own: the kill ends it (exit code 4 if stdin closes first).
/// </summary>
internal static class LockedRenameVictim
{
    public const string Variable = "SLATESHARP_LOCKED_RENAME_VICTIM";
    public const int BadArguments = 2;
    public const int Failed = 3;
    public const int NotKilled = 4;

    /// <summary>The environment value for a victim: directory, object path, size in bytes, kill delay.</summary>
    public static string Spec(string root, ObjectPath path, int size, TimeSpan killDelay) =>
        string.Join('|', root, path.Value, size.ToString(CultureInfo.InvariantCulture), killDelay.Ticks.ToString(CultureInfo.InvariantCulture));

    /// <summary>What the victim writes: a byte pattern tagged with the writer, so a reader can tell whose it is.</summary>
    public static byte[] Content(char writer, int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
        {
            bytes[i] = (byte)(i % 251 == 0 ? writer : 'a' + (i % 26));
        }

        return bytes;
    }

    public static int Run(string spec)
    {
        string root;
        ObjectPath path;
        int size;
        TimeSpan delay;
        try
        {
            var parts = spec.Split('|');
            root = parts[0];
            path = ObjectPath.Parse(parts[1]);
            size = int.Parse(parts[2], CultureInfo.InvariantCulture);
            delay = TimeSpan.FromTicks(long.Parse(parts[3], CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or SlateSharpException)
        {
            Console.Error.WriteLine($"locked-rename victim: bad {Variable}='{spec}': {e.Message}");
            return BadArguments;
        }

        try
        {
            using var store = LocalFileSystemObjectStore.Open(root, new LocalStoreOptions
            {
                ForceCommitStrategy = CommitStrategy.LockedRename,
                StepHook = (step, _) => OnStep(step, delay),
            });
            var result = store.PutAsync(path, Content('V', size), PutMode.CreateIfAbsent).AsTask().GetAwaiter().GetResult();
            Say("stored " + result.Outcome);
            return Console.In.ReadLine() is null ? NotKilled : NotKilled;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"locked-rename victim: {e}");
            return Failed;
        }
    }

    private static ValueTask OnStep(CommitStep step, TimeSpan delay)
    {
        switch (step)
        {
            case CommitStep.LockAcquired:
                Say("locked");
                _ = Console.In.ReadLine();
                break;
            case CommitStep.ConditionChecked:
                // Said before the killer starts: with a zero delay it could otherwise kill before the line is out.
                Say("renaming");
                var killer = new Thread(() =>
                {
                    var clock = Stopwatch.StartNew();
                    while (clock.Elapsed < delay)
                    {
                        Thread.SpinWait(100);
                    }

                    Process.GetCurrentProcess().Kill();
                }) { IsBackground = true, Priority = ThreadPriority.Highest };
                killer.Start();
                break;
            case CommitStep.Published:
                Say("published");
                break;
        }

        return ValueTask.CompletedTask;
    }

    private static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
