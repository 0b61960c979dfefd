using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Tests.Support;
using Alpaca.TestSupport;
using Grpc.Core;

namespace Alpaca.Generator.Api.Tests.Security;

/// <summary>
/// A run's three caller-named paths (seed_tasks_path, prompt_path, output_dir) against a real service over
/// gRPC, with its data root and output root set to two folders of this test: <c>..</c> is INVALID_ARGUMENT, an
/// absolute path elsewhere and a symlink that leads out are PERMISSION_DENIED, with one message whether or not
/// the file exists. The teacher is a named one on a public test address: no refusal here depends on reaching it.
/// </summary>
public sealed class RunPathTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("alpaca-gen-paths");
    private readonly TempDir _outside = new("alpaca-gen-outside");
    private GeneratorHost? _host;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir.File("data"));
        Directory.CreateDirectory(_dir.File("out"));
        File.Copy(RepoPaths.Data("seed_tasks.jsonl"), _dir.File("data/seeds.jsonl"));
        await File.WriteAllTextAsync(_dir.File("data/prompt.txt"), "List 20 tasks:\n");
        await File.WriteAllTextAsync(_outside.File("secret.txt"), "not for the teacher");
        await File.WriteAllTextAsync(_outside.File("seeds.jsonl"), await File.ReadAllTextAsync(RepoPaths.Data("seed_tasks.jsonl")));
        File.CreateSymbolicLink(_dir.File("data/escape"), _outside.Path);
        File.CreateSymbolicLink(_dir.File("data/secret.txt"), _outside.File("secret.txt"));
        File.CreateSymbolicLink(_dir.File("out/escape"), _outside.Path);
        _host = await GeneratorHost.StartAsync(_dir.File("state"), new Dictionary<string, string?>
        {
            ["Alpaca:Paths:DataRoots:0"] = _dir.File("data"),
            ["Alpaca:Paths:DataRoots:1"] = null,
            ["Alpaca:Generator:OutputRoot"] = _dir.File("out"),
            ["Alpaca:Generator:AllowCustomTeachers"] = "false",
            ["Alpaca:Generator:AllowPrivateTeacherAddresses"] = "false",
            ["Alpaca:Generator:Teachers:public:BaseUrl"] = "http://192.0.2.1/v1", // TEST-NET-1: never answers
            ["Alpaca:Generator:Teachers:public:Model"] = "m",
        });
    }

    public static TheoryData<string, string, StatusCode> Attacks(string field)
    {
        var cases = new TheoryData<string, string, StatusCode>();
        var outsideFile = field == "spec.output_dir" ? "out-elsewhere" : "secret.txt";
        cases.Add(field, "../outside/x", StatusCode.InvalidArgument);
        cases.Add(field, "sub/../../x", StatusCode.InvalidArgument);
        cases.Add(field, "/etc/passwd", StatusCode.PermissionDenied);
        cases.Add(field, "OUTSIDE/" + outsideFile, StatusCode.PermissionDenied); // absolute, an existing file outside
        cases.Add(field, "OUTSIDE/does-not-exist", StatusCode.PermissionDenied);
        cases.Add(field, "escape/" + outsideFile, StatusCode.PermissionDenied); // through a folder link
        return cases;
    }

    public static TheoryData<string, string, StatusCode> SeedAttacks => Attacks("spec.seed_tasks_path");

    public static TheoryData<string, string, StatusCode> PromptAttacks => Attacks("spec.prompt_path");

    public static TheoryData<string, string, StatusCode> OutputAttacks => Attacks("spec.output_dir");

    [Theory]
    [MemberData(nameof(SeedAttacks))]
    [MemberData(nameof(PromptAttacks))]
    [MemberData(nameof(OutputAttacks))]
    public async Task A_path_outside_its_root_is_refused_without_saying_whether_the_file_exists(string field, string path, StatusCode expected)
    {
        var given = path.Replace("OUTSIDE", _outside.Path, StringComparison.Ordinal);
        given = given.StartsWith("escape/", StringComparison.Ordinal)
            ? Path.Combine(field == "spec.output_dir" ? _dir.File("out") : _dir.File("data"), given)
            : given;
        var e = await Assert.ThrowsAsync<RpcException>(() => Start(WithPath(field, given)));

        Assert.Equal(expected, e.StatusCode);
        Assert.StartsWith(field + " ", e.Status.Detail);
        Assert.DoesNotContain(_outside.Path, e.Status.Detail);
        if (expected == StatusCode.PermissionDenied)
        {
            // The same text for an existing file, a missing one and a link: nothing to probe the server with.
            Assert.Equal($"{field} is outside the configured roots ({(field == "spec.output_dir" ? "Alpaca:Generator:OutputRoot" : "Alpaca:Paths:DataRoots")}).", e.Status.Detail);
        }
    }

    [Fact]
    public async Task A_file_link_inside_the_data_root_that_points_out_is_refused_but_files_inside_and_inline_seeds_are_accepted()
    {
        var link = await Assert.ThrowsAsync<RpcException>(() => Start(WithPath("spec.prompt_path", _dir.File("data/secret.txt"))));
        Assert.Equal(StatusCode.PermissionDenied, link.StatusCode);

        // Inside the roots (relative names are taken under the first root): accepted.
        var spec = WithPath("spec.seed_tasks_path", "seeds.jsonl");
        spec.PromptPath = "prompt.txt";
        spec.OutputDir = _dir.File("out/run1");
        var run = (await _host!.Client.StartRunAsync(new StartRunRequest { RunId = "inside", Spec = spec })).Run;
        Assert.Equal(_dir.File("out/run1"), Path.GetDirectoryName(run.DatasetPath));

        // Inline seeds and prompt need no file.
        var inline = GrpcRunKit.Spec("", 1, _dir.File("out/run2"));
        inline.Teacher.Name = "public";
        inline.Teacher.Model = "";
        inline.SeedTasks = new SeedTasks { Tasks = { new SeedTask { Instruction = "Name a colour.", Output = "Blue." } } };
        inline.PromptText = "List 20 tasks:\n";
        inline.Sampling.NumPromptInstructions = 1;
        await _host.Client.StartRunAsync(new StartRunRequest { RunId = "inline", Spec = inline });
        await _host.Client.CancelRunAsync(new CancelRunRequest { RunId = "inside" });
        await _host.Client.CancelRunAsync(new CancelRunRequest { RunId = "inline" });
    }

    private RunSpec WithPath(string field, string path)
    {
        var spec = GrpcRunKit.Spec("", 1, _dir.File("out/ok"));
        spec.Teacher.Name = "public";
        spec.Teacher.Model = "";
        spec.SeedTasksPath = _dir.File("data/seeds.jsonl");
        switch (field)
        {
            case "spec.seed_tasks_path": spec.SeedTasksPath = path; break;
            case "spec.prompt_path": spec.PromptPath = path; break;
            default: spec.OutputDir = path; break;
        }

        return spec;
    }

    private Task Start(RunSpec spec) => _host!.Client.StartRunAsync(new StartRunRequest { Spec = spec }).ResponseAsync;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _dir.Dispose();
        _outside.Dispose();
    }
}
