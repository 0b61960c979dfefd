using Alpaca.Generator.Api.Configuration;
using Alpaca.TestSupport;
using Microsoft.Extensions.Configuration;

namespace Alpaca.Platform.Tests.Platform;

/// <summary>
/// <c>alpaca up --teacher NAME=URL[,…]</c>: the option's values become the generator's settings, bound here as the
/// generator binds its options; the built command refuses a malformed one before starting anything.
/// </summary>
public sealed class UpTeacherOptionTests
{
    private static GeneratorOptions Bind(params string[] args)
    {
        var settings = EmbeddedTeachers.Settings(args.Where((_, i) => i % 2 == 1 && args[i - 1] == EmbeddedTeachers.OptionName));
        var options = new GeneratorOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(GeneratorOptions.Section).Bind(options);
        return options;
    }

    [Fact]
    public void Each_teacher_becomes_a_named_teacher_of_the_generator()
    {
        using var dir = new TempDir();
        var keyFile = dir.File("teacher.key");
        File.WriteAllText(keyFile, "sk-local");
        var options = Bind(
            "--teacher", $"local=http://127.0.0.1:8000/v1/,model=qwen,api=chat,key-file={keyFile}",
            "--teacher", "openai=https://api.openai.com/v1,key-env=OPENAI_API_KEY");

        Assert.Equal(["local", "openai"], options.Teachers.Keys.Order(StringComparer.Ordinal));
        var local = options.Teachers["local"];
        Assert.Equal("http://127.0.0.1:8000/v1", local.BaseUrl);
        Assert.Equal("qwen", local.Model);
        Assert.Equal("chat", local.Api);
        Assert.Equal(Path.GetFullPath(keyFile), local.ApiKeyFile);
        Assert.Null(local.ApiKeyEnv);
        // The user named the URL, as an operator: a local server is allowed (a caller's base_url still is not).
        Assert.True(local.AllowPrivateAddresses);
        var openai = options.Teachers["openai"];
        Assert.Equal("OPENAI_API_KEY", openai.ApiKeyEnv);
        Assert.Equal("completions", openai.Api);
        Assert.Null(openai.ApiKeyFile);
    }

    [Fact]
    public void No_teacher_option_configures_none()
    {
        Assert.Empty(Bind("--port", "0").Teachers);
    }

    [Theory]
    [InlineData("local", "NAME=URL")]
    [InlineData("=http://127.0.0.1/v1", "NAME=URL")]
    [InlineData("bad name=http://127.0.0.1/v1", "NAME=URL")]
    [InlineData("t=file:///etc/passwd", "not an http(s) base URL")]
    [InlineData("t=http://127.0.0.1/v1,api=grpc", "'api=grpc' is not")]
    [InlineData("t=http://127.0.0.1/v1,token=x", "'token=x' is not")]
    [InlineData("t=http://127.0.0.1/v1,key-file=/nonexistent/alpaca-key", "key file not found")]
    public void A_malformed_teacher_is_refused_with_what_is_wrong(string spec, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => EmbeddedTeachers.Settings([spec]));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_up_command_takes_repeated_teachers_and_refuses_a_bad_one_before_starting()
    {
        using var dir = new TempDir();
        var (code, _, err) = await AlpacaCli.RunAsync(
            TimeSpan.FromSeconds(60), "up", "--port", "0", "--http-port", "0", "--state", dir.Path,
            "--teacher", "ok=http://127.0.0.1:8000/v1", "--teacher", "t=http://127.0.0.1/v1,api=grpc");
        Assert.Equal(2, code);
        Assert.Contains("alpaca up: --teacher t: 'api=grpc' is not", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "auth")), "the platform started");
    }

    [Fact]
    public void A_teacher_named_twice_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => EmbeddedTeachers.Settings(["t=http://a/v1", "T=http://b/v1"]));
        Assert.Contains("given twice", ex.Message, StringComparison.Ordinal);
    }
}
