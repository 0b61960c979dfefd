namespace Alpaca.Console.Tests;

/// <summary>Every test class shares one platform and one browser, and they run one after another (two cores).</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
