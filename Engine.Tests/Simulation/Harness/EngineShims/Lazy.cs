namespace SlateSharp;

/// <summary>
/// Simulation build only: stands in for <see cref="System.Lazy{T}"/> in its default, thread-safe mode. The framework's
/// holds a lock Coyote does not model while the factory runs; the engine's factories start async reads that reach
/// Coyote scheduling points inside it, and a second caller then blocks its thread, which Coyote reports as a hang.
/// This one takes a <c>lock</c> Coyote rewrites and schedules. Like the framework's, it caches a factory's exception.
/// </summary>
internal sealed class Lazy<T>(Func<T> factory)
{
    private readonly object _gate = new();
    private Func<T>? _factory = factory;
    private T? _value;
    private Exception? _failure;

    public T Value
    {
        get
        {
            lock (_gate)
            {
                if (_factory is { } create)
                {
                    _factory = null;
                    try
                    {
                        _value = create();
                    }
                    catch (Exception e)
                    {
                        _failure = e;
                    }
                }

                if (_failure is not null)
                {
                    throw _failure;
                }

                return _value!;
            }
        }
    }
}
