using System.Diagnostics;
using System.Globalization;
using SlateSharp.Storage;
using SlateSharp.Storage.Local;
using SlateSharp.Tests.TestSupport;

namespace SlateSharp.Tests.Storage.Local;

/// <summary>
/// The s3fs + SIGKILL hazard of <see cref="CommitStrategy.LockedRename"/>, on the real mounts: a victim process
/// (<see cref="LockedRenameVictim"/>) holds the directory lock and publishes a large object with <c>rename()</c>,
/// which s3fs carries out as a server-side copy and a delete; it is SIGKILLed at seeded moments inside that rename
/// while this process waits for the lock to publish the same name. If the kill released the lock before s3fs had
/// finished (or dropped) the rename, this process would find the name absent, publish, and then have its object
/// replaced by the late copy. The test asserts that never happens: whenever this process's put returns Stored the
/// object holds its bytes (also after a later put in the directory was answered), whenever it returns AlreadyExists
/// the object holds the victim's bytes, and a victim's temporary file is left exactly when its rename never happened.
/// It also requires that some kill really landed inside a rename, and prints the figures (rename time, how long a
/// killed victim lived on).
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
public sealed class LockedRenameKillTests(bool s3fsDefaults)
{
    // The victim's object: big enough that s3fs's copy takes a while (tens of ms on the runner's mount).
    private int Size => s3fsDefaults ? 8 << 20 : 32 << 20;

    // Kill points as fractions of a calibrated rename time, jittered by the seed.
    private double[] Fractions => s3fsDefaults ? [0, 0.3, 0.8] : [0, 0.15, 0.4, 0.65, 0.9];

    [Test]
    public async Task A_writer_killed_inside_rename_never_lets_the_next_writer_publish_and_then_lose_its_object()
    {
        var mount = (s3fsDefaults ? FuseTarget.Defaults() : new FuseTarget()).Mount;
        var seed = TestSeeds.Get(s3fsDefaults ? 4_402 : 4_401);
        var random = new Random(seed);
        using var directory = new TestDirectory(mount);
        var renameStarted = 0L;
        var renameTime = TimeSpan.Zero;
        var rivalTempWritten = new TaskCompletionSource();
        using (var rival = LocalFileSystemObjectStore.Open(directory.Path, new LocalStoreOptions
        {
            StepHook = (step, _) =>
            {
                if (step == CommitStep.TempWritten)
                {
                    rivalTempWritten.TrySetResult();
                }
                else if (step == CommitStep.ConditionChecked)
                {
                    renameStarted = Stopwatch.GetTimestamp();
                }
                else if (step == CommitStep.Published && renameStarted != 0)
                {
                    renameTime = Stopwatch.GetElapsedTime(renameStarted);
                }

                return ValueTask.CompletedTask;
            },
        }))
        {
            Assert.That(rival.CommitStrategy, Is.EqualTo(CommitStrategy.LockedRename));
            // Calibrates the rename time, and makes the rival check wal/'s strategy marker now: that takes the lock of
            // another stripe, which a victim holding it would otherwise make the rival wait for.
            Assert.That((await rival.PutAsync(ObjectPath.Parse("wal/calibration"), LockedRenameVictim.Content('C', Size), PutMode.CreateIfAbsent)).Stored, Is.True);
            var calibrated = renameTime;
            TestContext.Out.WriteLine($"mount={mount} size={Size} calibrated rename={calibrated.TotalMilliseconds:F0} ms");

            var outcomes = new List<Cycle>();
            for (var i = 0; i < Fractions.Length; i++)
            {
                var delay = calibrated * Fractions[i] * (0.9 + (0.2 * random.NextDouble()));
                rivalTempWritten = new TaskCompletionSource();
                renameStarted = 0;
                var cycle = await RunCycleAsync(rival, directory.Path, ObjectPath.Parse($"wal/{i:D20}.sst"), delay, () => rivalTempWritten.Task, seed);
                outcomes.Add(cycle);
                TestContext.Out.WriteLine(cycle.ToString());
            }

            var midRename = outcomes.Count(c => c.Kind == CycleKind.KilledWhileRenaming);
            TestContext.Out.WriteLine(
                $"{outcomes.Count} kills: {midRename} after calling rename and before it returned, {outcomes.Count(c => c.Kind == CycleKind.RenameDropped)} before the rename took effect, " +
                $"{outcomes.Count(c => c.Kind == CycleKind.PublishedBeforeKill)} after it returned; none let the next writer lose its object");
            Assert.That(midRename, Is.GreaterThan(0), $"seed {seed}: no kill landed while a rename ran (calibrated {calibrated.TotalMilliseconds:F0} ms), so the hazard was not exercised");
        }
    }

    private async Task<Cycle> RunCycleAsync(
        LocalFileSystemObjectStore rival, string root, ObjectPath path, TimeSpan delay, Func<Task> rivalQueued, int seed)
    {
        using var victim = StartVictim(LockedRenameVictim.Spec(root, path, Size, delay));
        var lines = new List<string>();
        var stderr = victim.StandardError.ReadToEndAsync();
        await ExpectLineAsync(victim, lines, "locked", stderr, seed);

        var rivalPut = rival.PutAsync(path, LockedRenameVictim.Content('R', 4096), PutMode.CreateIfAbsent).AsTask();
        await rivalQueued().WaitAsync(TimeSpan.FromSeconds(60));
        await victim.StandardInput.WriteLineAsync("go");
        await victim.StandardInput.FlushAsync();
        await ExpectLineAsync(victim, lines, "renaming", stderr, seed);
        var renaming = Stopwatch.GetTimestamp();
        while (await victim.StandardOutput.ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }

        await victim.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        var lived = Stopwatch.GetElapsedTime(renaming);
        Assert.That(victim.ExitCode, Is.EqualTo(137).Or.EqualTo(-9), $"seed {seed}: the victim must die by SIGKILL; stderr: {await stderr}");
        var rivalResult = await rivalPut.WaitAsync(TimeSpan.FromSeconds(120));

        // A later put in the same directory, answered: a copy still in flight would have landed by now.
        Assert.That((await rival.PutAsync(ObjectPath.Parse($"wal/barrier-{path.Name}"), LockedRenameVictim.Content('B', 16), PutMode.CreateIfAbsent)).Stored, Is.True);
        var stored = await rival.GetAsync(path, ByteRange.All);
        var temps = Directory.EnumerateFiles(Path.Combine(root, "wal"), LocalFileSystemObjectStore.TempPrefix + "*").ToList();
        var expected = rivalResult.Stored ? LockedRenameVictim.Content('R', 4096) : LockedRenameVictim.Content('V', Size);
        var context = $"seed {seed} delay {delay.TotalMilliseconds:F1} ms: rival {rivalResult.Outcome}, victim said [{string.Join(", ", lines)}]";
        Assert.That(stored, Is.Not.Null, context);
        Assert.That(stored!.Data.Length, Is.EqualTo(expected.Length), context + ": the object under the name is not the one whose put was acknowledged");
        Assert.That(stored.Data.Span.SequenceEqual(expected), Is.True, context + ": the object under the name is not the one whose put was acknowledged");
        Assert.That(temps, Has.Count.EqualTo(rivalResult.Stored ? 1 : 0), context + ": the victim's temporary file must remain exactly when its rename never happened");
        Assert.That(rivalResult.Stored && lines.Contains("published"), Is.False, context + ": a rename that returned cannot be overtaken");
        foreach (var temp in temps)
        {
            File.Delete(temp);
        }

        var kind = lines.Contains("published") ? CycleKind.PublishedBeforeKill
            : rivalResult.Stored ? CycleKind.RenameDropped
            : CycleKind.KilledWhileRenaming;
        return new Cycle(kind, delay, lived, rivalResult.Outcome);
    }

    private static Process StartVictim(string spec)
    {
        var assembly = typeof(LockedRenameVictim).Assembly.Location;
        var host = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(assembly);
        info.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
        info.Environment[LockedRenameVictim.Variable] = spec;
        return Process.Start(info)!;
    }

    private static async Task ExpectLineAsync(Process victim, List<string> lines, string expected, Task<string> stderr, int seed)
    {
        var line = await victim.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
        if (line != expected)
        {
            victim.Kill();
            Assert.Fail($"seed {seed}: the victim said '{line}' instead of '{expected}' (after [{string.Join(", ", lines)}]); stderr: {await stderr}");
        }

        lines.Add(expected);
    }

    private enum CycleKind
    {
        PublishedBeforeKill,
        KilledWhileRenaming,
        RenameDropped,
    }

    private sealed record Cycle(CycleKind Kind, TimeSpan Delay, TimeSpan LivedAfterRenaming, PutOutcome Rival)
    {
        public override string ToString() => string.Create(
            CultureInfo.InvariantCulture,
            $"kill {Delay.TotalMilliseconds:F1} ms after 'renaming': {Kind}; the victim lived {LivedAfterRenaming.TotalMilliseconds:F0} ms after 'renaming'; the next writer got {Rival}");
    }
}
