using Microsoft.Coyote.Specifications;
using SlateSharp.Format;
using SlateSharp.Manifest;
using SlateSharp.Sst;
using SlateSharp.Storage;

namespace SlateSharp.Simulation;

/// <summary>
/// The rules the stored objects must keep at every moment, checked by the <see cref="SimulatedStore"/> as each
/// request is applied (a broken rule fails the iteration at the step that broke it):
/// <list type="bullet">
/// <item>manifest ids are contiguous from 1, never overwritten or deleted; each decodes and passes the manifest
/// invariants; epochs, <c>replay_after_wal_id</c>, <c>next_wal_id</c> and <c>last_l0_sequence</c> never go back;</item>
/// <item>every SST a stored manifest references exists when that manifest is stored, and is never deleted;</item>
/// <item>WAL objects are only ever created (create-if-absent), never overwritten or deleted.</item>
/// </list>
/// </summary>
internal sealed class StoreInvariants(SimulationLog log)
{
    private readonly SortedDictionary<ulong, DbManifest> _manifests = [];
    private readonly Dictionary<string, ulong> _referencedBy = new(StringComparer.Ordinal);
    private readonly HashSet<string> _present = new(StringComparer.Ordinal);

    public int ManifestsStored => _manifests.Count;

    /// <summary>The newest stored manifest and its id, or null.</summary>
    public (ulong Id, DbManifest Manifest)? Latest =>
        _manifests.Count == 0 ? null : (_manifests.Keys.Max(), _manifests[_manifests.Keys.Max()]);

    /// <summary>Paths of SSTs referenced by any stored manifest.</summary>
    public IEnumerable<string> ReferencedSsts => _referencedBy.Keys;

    public bool IsPresent(string path) => _present.Contains(path);

    public void BeforePut(string party, ObjectPath path, PutOptions options)
    {
        var kind = options.Mode.Kind;
        if (path.Value.StartsWith(ManifestStore.Prefix, StringComparison.Ordinal) && kind != PutModeKind.CreateIfAbsent)
        {
            Fail($"{party} wrote manifest {path} with {options.Mode}: manifests are only ever created if absent");
        }

        if (path.Value.StartsWith("wal/", StringComparison.Ordinal) && kind != PutModeKind.CreateIfAbsent)
        {
            Fail($"{party} wrote wal object {path} with {options.Mode}: wal objects are only ever created if absent");
        }
    }

    public void AfterStored(string party, ObjectPath path, byte[] content)
    {
        _present.Add(path.Value);
        if (ManifestStore.TryParseId(path, out var id))
        {
            CheckManifest(party, id, path, content);
        }
    }

    public void BeforeDelete(string party, ObjectPath path)
    {
        if (_referencedBy.TryGetValue(path.Value, out var manifestId))
        {
            Fail($"{party} deleted {path}, which stored manifest {manifestId} references: every read that touches it now fails");
        }

        if (path.Value.StartsWith(ManifestStore.Prefix, StringComparison.Ordinal) || path.Value.StartsWith("wal/", StringComparison.Ordinal))
        {
            Fail($"{party} deleted {path}: nothing deletes manifests or wal objects (there is no garbage collector yet)");
        }

        _present.Remove(path.Value);
    }

    private void CheckManifest(string party, ulong id, ObjectPath path, byte[] content)
    {
        DbManifest manifest;
        try
        {
            manifest = ManifestCodec.Decode(content, path.Value);
        }
        catch (SlateSharpException e)
        {
            Fail($"{party} stored manifest {id} that does not decode: {e.Message}");
            return;
        }

        if (ManifestInvariants.FindViolation(manifest) is { } violation)
        {
            Fail($"{party} stored manifest {id} that breaks an invariant: {violation}");
        }

        if (id != 1 && !_manifests.ContainsKey(id - 1))
        {
            Fail($"{party} stored manifest {id} but manifest {id - 1} does not exist: ids must be contiguous");
        }

        if (_manifests.TryGetValue(id - 1, out var previous))
        {
            CheckNeverBack(party, id, "writer_epoch", previous.WriterEpoch, manifest.WriterEpoch);
            CheckNeverBack(party, id, "compactor_epoch", previous.CompactorEpoch, manifest.CompactorEpoch);
            CheckNeverBack(party, id, "replay_after_wal_id", previous.ReplayAfterWalId, manifest.ReplayAfterWalId);
            CheckNeverBack(party, id, "next_wal_id", previous.NextWalId, manifest.NextWalId);
            CheckNeverBack(party, id, "last_l0_sequence", previous.LastL0Sequence, manifest.LastL0Sequence);
        }

        foreach (var handle in manifest.L0.Concat(manifest.SortedRuns.SelectMany(r => r.Ssts)))
        {
            var sst = SstPaths.PathOf(handle.Id).Value;
            if (!_present.Contains(sst))
            {
                Fail($"{party} stored manifest {id} referencing {sst}, which is not stored");
            }

            _referencedBy.TryAdd(sst, id);
        }

        _manifests[id] = manifest;
        log.Add($"   manifest {id} by {party}: writer_epoch={manifest.WriterEpoch} replay_after_wal_id={manifest.ReplayAfterWalId} " +
            $"next_wal_id={manifest.NextWalId} last_l0_sequence={manifest.LastL0Sequence} l0=[{string.Join(',', manifest.L0.Select(h => Short(h.Id)))}]");
    }

    private void CheckNeverBack(string party, ulong id, string field, ulong before, ulong after)
    {
        if (after < before)
        {
            Fail($"{party} stored manifest {id} whose {field} went back ({before}->{after})");
        }
    }

    public static string Short(SstId id) => id.ToString()[^6..];

    private void Fail(string message)
    {
        log.Add("!! " + message);
        Specification.Assert(false, message);
    }
}
