using Alpaca.ServiceDefaults.Auth;
using Alpaca.State;
using Alpaca.TestSupport;

namespace Alpaca.Platform.Tests.Auth;

/// <summary>
/// <c>alpaca keys</c> as a process: the store options work before and after the subcommand (the docs, the images'
/// smoke test and <c>alpaca up</c>'s hint use both forms), and the keys it prints validate against the folder it wrote.
/// </summary>
public sealed class KeysCliTests
{
    [Fact]
    public async Task Store_options_work_before_and_after_the_subcommand()
    {
        using var dir = new TempDir();
        var timeout = TimeSpan.FromMinutes(2);
        var after = await AlpacaCli.RunAsync(timeout, "keys", "create", "--state", dir.Path, "--pepper", "p", "--name", "after", "--scopes", "inference");
        var before = await AlpacaCli.RunAsync(timeout, "keys", "--state", dir.Path, "--pepper", "p", "create", "--name", "before", "--scopes", "data");
        Assert.True(after.Code == 0, after.Err);
        Assert.True(before.Code == 0, before.Err);

        var store = new ApiKeyStore(new LocalFolderStateStore(Path.Combine(dir.Path, "auth")), "p");
        foreach (var (output, name, scope) in new[] { (after.Out, "after", ApiScope.Inference), (before.Out, "before", ApiScope.Data) })
        {
            var key = output.Split('\n').Single(l => l.StartsWith("api-key: ", StringComparison.Ordinal))["api-key: ".Length..].Trim();
            var record = await store.ValidateAsync(key);
            Assert.NotNull(record);
            Assert.Equal(name, record.Name);
            Assert.Equal([scope], record.Scopes);
        }

        var list = await AlpacaCli.RunAsync(timeout, "keys", "list", "--state", dir.Path);
        Assert.True(list.Code == 0, list.Err);
        Assert.Contains("\tafter\t", list.Out, StringComparison.Ordinal);
        Assert.Contains("\tbefore\t", list.Out, StringComparison.Ordinal);
    }
}
