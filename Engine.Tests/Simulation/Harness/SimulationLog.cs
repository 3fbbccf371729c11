namespace SlateSharp.Simulation;

/// <summary>
/// What happened in one iteration, in the order Coyote scheduled it: actor steps, store requests and the faults
/// injected into them, acknowledgements. Printed after a failure next to Coyote's own trace, so a failing schedule
/// can be read as a story before it is replayed.
/// </summary>
internal sealed class SimulationLog
{
    private readonly System.Threading.Lock _lock = new();
    private readonly List<string> _lines = [];
    private int _step;

    public IReadOnlyList<string> Lines => _lines;

    /// <summary>Where lines also go as they are added (the verbose runner streams them to a file), or null.</summary>
    public TextWriter? Echo { get; set; }

    public void Add(string line)
    {
        lock (_lock)
        {
            var numbered = $"{++_step,5} {line}";
            _lines.Add(numbered);
            Echo?.WriteLine(numbered);
            Echo?.Flush();
        }
    }

    public string Tail(int count)
    {
        lock (_lock)
        {
            var start = Math.Max(0, _lines.Count - count);
            var skipped = start > 0 ? $"      ... ({start} earlier lines in the log file)\n" : "";
            return skipped + string.Join('\n', _lines.Skip(start));
        }
    }
}
