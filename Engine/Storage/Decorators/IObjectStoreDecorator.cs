namespace SlateSharp.Storage.Decorators;

/// <summary>A store that wraps another; lets callers find a decorator (e.g. the metrics) in a stack of them.</summary>
internal interface IObjectStoreDecorator
{
    IObjectStore Inner { get; }
}

/// <summary>Walks a stack of decorators.</summary>
internal static class ObjectStoreStack
{
    /// <summary>The first store of type <typeparamref name="T"/> from <paramref name="store"/> inwards, or null.</summary>
    public static T? Find<T>(IObjectStore store)
        where T : class, IObjectStore
    {
        for (IObjectStore? current = store; current is not null; current = (current as IObjectStoreDecorator)?.Inner)
        {
            if (current is T found)
            {
                return found;
            }
        }

        return null;
    }
}
