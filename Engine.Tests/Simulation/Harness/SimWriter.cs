using SlateSharp.Storage;

namespace SlateSharp.Simulation;

/// <summary>
/// One writer of the simulated database (a <see cref="Db"/> opened through its own view of the store) and what the
/// harness knows about it: whether it has learned that it is fenced, from its own calls failing with
/// <see cref="CloseReason.Fenced"/> or from its manifest holder.
/// </summary>
internal sealed class SimWriter
{
    private readonly SimulationLog _log;
    private bool _sawFenced;

    public SimWriter(string name, SimulatedStore store, SimulationLog log)
    {
        Name = name;
        _log = log;
        View = store.ViewFor(name, () => KnowsFenced);
    }

    public string Name { get; }

    public IObjectStore View { get; }

    public Db? Db { get; private set; }

    /// <summary>Set once the writer's ending (close, dispose or crash) has returned: its background tasks have stopped.</summary>
    public bool Ended { get; set; }

    public bool KnowsFenced => _sawFenced || (Db?.Manifest.IsFenced ?? false);

    public async Task<bool> OpenAsync(DbOptions options)
    {
        _log.Add($"{Name}: open");
        try
        {
            Db = await Db.OpenAsync(View, "", options);
            _log.Add($"{Name}: opened as writer epoch {Db.WriterEpoch}");
            return true;
        }
        catch (SlateSharpException e)
        {
            _log.Add($"{Name}: open failed: {e.Kind} {e.Message}");
            return false;
        }
    }

    /// <summary>Notes what a failed call says about the writer.</summary>
    public void Observe(SlateSharpException error)
    {
        if (error.IsFenced && !_sawFenced)
        {
            _sawFenced = true;
            _log.Add($"{Name}: learned it is fenced ({error.Message})");
        }
    }
}
