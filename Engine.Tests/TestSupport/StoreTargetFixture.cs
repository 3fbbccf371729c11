using SlateSharp.Storage;

namespace SlateSharp.Tests.TestSupport;

/// <summary>
/// Base for fixtures that run against every backend in a <see cref="StoreTargets"/> list: each test gets a fresh,
/// empty <see cref="Store"/>, cleaned up after the test; the target is disposed after the fixture.
/// </summary>
public abstract class StoreTargetFixture(StoreTarget target)
{
    protected StoreTarget Target { get; } = target;

    protected IObjectStore Store { get; private set; } = null!;

    [SetUp]
    public async Task CreateStore() => Store = await Target.CreateAsync();

    [TearDown]
    public Task CleanUp() => Target.CleanUpAsync();

    [OneTimeTearDown]
    public Task DisposeTarget() => Target.DisposeAsync();
}
