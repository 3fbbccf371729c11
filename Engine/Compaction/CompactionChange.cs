using SlateSharp.Manifest;
using SlateSharp.Sst;

namespace SlateSharp.Compaction;

/// <summary>
/// The manifest change that publishes a finished job: its inputs leave L0 and the sorted runs, its output run takes
/// their place. Idempotent: applied to a manifest that already holds the outputs (our write landed but its answer was
/// lost) it returns its input. The writer's concurrent flushes only add L0 SSTs at the front, never touching the
/// inputs (the oldest L0 SSTs) or the runs, so the change re-applies cleanly on whatever the writer stored meanwhile.
/// An output is published only within the publish deadline of its minting, unless the manifest lists it among the
/// unpublished compaction outputs (a long job registered it in time); publishing clears that list.
/// </summary>
internal static class CompactionChange
{
    /// <summary>The manifest with the job applied; <paramref name="droppedRangeDeletes"/> (range deletes the job left nothing below, by sequence) leave it.</summary>
    public static DbManifest Apply(
        DbManifest manifest, CompactionJob job, IReadOnlyList<SstHandle> outputs, TimeProvider time, IReadOnlyCollection<ulong>? droppedRangeDeletes = null)
    {
        if (IsApplied(manifest, job, outputs))
        {
            return manifest;
        }

        foreach (var sst in outputs)
        {
            // A registered output is kept by every collector whatever its age (see UnpublishedOutputs).
            if (!manifest.UnpublishedCompactionOutputs.Contains(sst.Id))
            {
                SstPublishing.ThrowIfTooOld(sst.Id, time);
            }
        }

        var l0Inputs = job.Sources.Where(s => s.L0 is not null).Select(s => s.L0!.Id).ToHashSet();
        var runInputs = job.Sources.Where(s => s.Run is not null).Select(s => s.Run!).ToList();
        if (l0Inputs.Any(id => !manifest.L0.Any(h => h.Id == id)) || runInputs.Any(run => !manifest.SortedRuns.Contains(run)))
        {
            throw Errors.Internal($"the inputs of compaction job {job} are no longer all in the manifest; only the compactor removes them");
        }

        var l0 = manifest.L0.Where(h => !l0Inputs.Contains(h.Id)).ToList();
        var runs = new List<SortedRun>(manifest.SortedRuns.Count + 1);
        SortedRun? output = outputs.Count > 0 ? new SortedRun(job.OutputRunId, outputs) : null;
        if (runInputs.Count == 0)
        {
            // An L0 job: the output is newer than every run.
            if (output is not null)
            {
                runs.Add(output);
            }

            runs.AddRange(manifest.SortedRuns);
        }
        else
        {
            var placed = false;
            foreach (var run in manifest.SortedRuns)
            {
                if (!runInputs.Contains(run))
                {
                    runs.Add(run);
                }
                else if (!placed)
                {
                    placed = true;
                    if (output is not null)
                    {
                        runs.Add(output);
                    }
                }
            }
        }

        var rangeTombstones = droppedRangeDeletes is { Count: > 0 }
            ? manifest.RangeTombstones.Where(t => !droppedRangeDeletes.Contains(t.Sequence)).ToList()
            : manifest.RangeTombstones;

        // The compactor runs one job at a time: publishing it settles every registration, including those of earlier
        // attempts that failed (their outputs were deleted or are orphans for the collector).
        return manifest with { L0 = l0, SortedRuns = runs, RangeTombstones = rangeTombstones, UnpublishedCompactionOutputs = [] };
    }

    /// <summary>Whether <paramref name="manifest"/> already holds the job's result.</summary>
    public static bool IsApplied(DbManifest manifest, CompactionJob job, IReadOnlyList<SstHandle> outputs)
    {
        if (outputs.Count > 0)
        {
            var first = outputs[0].Id;
            return manifest.SortedRuns.Any(r => r.Ssts.Any(h => h.Id == first));
        }

        // Nothing written (every row dropped): applied once no input is left.
        return !job.InputIds.Any(id => manifest.L0.Any(h => h.Id == id) || manifest.SortedRuns.Any(r => r.Ssts.Any(h => h.Id == id)));
    }
}
