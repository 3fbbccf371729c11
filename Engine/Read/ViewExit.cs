namespace SlateSharp.Read;

/// <summary>Exits an entered view (<see cref="IReadView.TryEnter"/>) when disposed: for a <c>using</c> around a read.</summary>
internal readonly struct ViewExit(IReadView view) : IDisposable
{
    public void Dispose() => view.Exit();
}
