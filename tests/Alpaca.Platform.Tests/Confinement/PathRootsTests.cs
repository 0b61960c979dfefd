using Alpaca.ServiceDefaults.Confinement;
using Alpaca.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.Configuration;

namespace Alpaca.Platform.Tests.Confinement;

/// <summary>The root check every service uses for caller-named paths, on real files and real symlinks.</summary>
public sealed class PathRootsTests : IDisposable
{
    private readonly TempDir _root = new("alpaca-root");
    private readonly TempDir _outside = new("alpaca-outside");

    public PathRootsTests()
    {
        File.WriteAllText(_root.File("inside.txt"), "ok");
        File.WriteAllText(_outside.File("secret.txt"), "secret");
    }

    private PathRoots Roots => new("Alpaca:Paths:DataRoots", [_root.Path]);

    public void Dispose()
    {
        _root.Dispose();
        _outside.Dispose();
    }

    [Fact]
    public void A_file_under_the_root_resolves_to_its_full_path_and_a_relative_name_is_taken_under_the_first_root()
    {
        Assert.Equal(_root.File("inside.txt"), Roots.Resolve(_root.File("inside.txt"), "path"));
        Assert.Equal(_root.File("inside.txt"), Roots.Resolve("inside.txt", "path"));
        Directory.CreateDirectory(_root.File("sub"));
        Assert.Equal(Path.Combine(_root.Path, "sub", "new.json"), Roots.Resolve("sub/new.json", "path"));
    }

    [Theory]
    [InlineData("../secret.txt")]
    [InlineData("sub/../../secret.txt")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("a\0b")]
    public void Malformed_paths_are_invalid_arguments(string path)
    {
        var e = Assert.Throws<PathConfinementException>(() => Roots.Resolve(path, "dataset_path"));
        Assert.False(e.OutsideRoots);
        Assert.Equal(StatusCode.InvalidArgument, e.ToRpc().StatusCode);
        Assert.Contains("dataset_path", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dot_dot_is_refused_even_when_it_would_land_back_inside()
    {
        Directory.CreateDirectory(_root.File("sub"));
        var e = Assert.Throws<PathConfinementException>(() => Roots.Resolve(Path.Combine(_root.Path, "sub", "..", "inside.txt"), "path"));
        Assert.False(e.OutsideRoots);
    }

    [Fact]
    public void An_absolute_path_outside_is_denied_with_the_same_message_whether_or_not_the_file_exists()
    {
        var existing = Assert.Throws<PathConfinementException>(() => Roots.Resolve(_outside.File("secret.txt"), "path"));
        var missing = Assert.Throws<PathConfinementException>(() => Roots.Resolve(_outside.File("no-such-file"), "path"));
        Assert.True(existing.OutsideRoots);
        Assert.Equal(StatusCode.PermissionDenied, existing.ToRpc().StatusCode);
        Assert.Equal(existing.Message, missing.Message);
        Assert.DoesNotContain(_outside.Path, existing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_root.Path, existing.Message, StringComparison.Ordinal);
        Assert.Contains("Alpaca:Paths:DataRoots", existing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sibling_folder_sharing_the_roots_prefix_is_outside()
    {
        var sibling = _root.Path + "-evil";
        Directory.CreateDirectory(sibling);
        try
        {
            Assert.True(Assert.Throws<PathConfinementException>(() => Roots.Resolve(Path.Combine(sibling, "x"), "path")).OutsideRoots);
        }
        finally
        {
            Directory.Delete(sibling, recursive: true);
        }
    }

    [Fact]
    public void A_file_symlink_inside_the_root_that_points_outside_is_denied()
    {
        File.CreateSymbolicLink(_root.File("link.txt"), _outside.File("secret.txt"));
        var e = Assert.Throws<PathConfinementException>(() => Roots.Resolve("link.txt", "path"));
        Assert.True(e.OutsideRoots);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_symlink_inside_the_root_that_points_outside_is_denied_for_files_under_it_existing_or_not()
    {
        Directory.CreateSymbolicLink(_root.File("escape"), _outside.Path);
        Assert.True(Assert.Throws<PathConfinementException>(() => Roots.Resolve("escape/secret.txt", "path")).OutsideRoots);
        Assert.True(Assert.Throws<PathConfinementException>(() => Roots.Resolve("escape/new/output", "output_dir")).OutsideRoots);
    }

    [Fact]
    public void A_relative_symlink_chain_and_a_dangling_link_are_followed_to_their_final_target()
    {
        // inside/a -> b (relative) -> the outside secret: two hops, the second one leaves.
        File.CreateSymbolicLink(_root.File("b"), _outside.File("secret.txt"));
        File.CreateSymbolicLink(_root.File("a"), "b");
        Assert.True(Assert.Throws<PathConfinementException>(() => Roots.Resolve("a", "path")).OutsideRoots);

        File.CreateSymbolicLink(_root.File("dangling"), _outside.File("not-yet"));
        Assert.True(Assert.Throws<PathConfinementException>(() => Roots.Resolve("dangling", "path")).OutsideRoots);
    }

    [Fact]
    public void A_symlink_that_stays_inside_the_root_is_allowed_and_resolved()
    {
        File.CreateSymbolicLink(_root.File("alias.txt"), "inside.txt");
        Assert.Equal(_root.File("inside.txt"), Roots.Resolve("alias.txt", "path"));
    }

    [Fact]
    public void A_root_reached_through_a_symlink_still_contains_its_files()
    {
        using var links = new TempDir("alpaca-links");
        Directory.CreateSymbolicLink(links.File("root"), _root.Path);
        var roots = new PathRoots("key", [links.File("root")]);
        Assert.Equal(_root.File("inside.txt"), roots.Resolve(Path.Combine(links.File("root"), "inside.txt"), "path"));
        Assert.Equal(_root.File("inside.txt"), roots.Resolve(_root.File("inside.txt"), "path"));
    }

    [Fact]
    public void A_symlink_loop_is_malformed()
    {
        File.CreateSymbolicLink(_root.File("x"), "y");
        File.CreateSymbolicLink(_root.File("y"), "x");
        Assert.False(Assert.Throws<PathConfinementException>(() => Roots.Resolve("x", "path")).OutsideRoots);
    }

    [Fact]
    public void No_roots_means_every_path_is_denied()
    {
        var none = new PathRoots("Alpaca:Paths:ModelRoots", [null, " "]);
        Assert.Empty(none.Roots);
        Assert.True(Assert.Throws<PathConfinementException>(() => none.Resolve(_root.File("inside.txt"), "path")).OutsideRoots);
    }

    [Fact]
    public void Roots_come_from_a_list_or_one_path_separated_value_and_fall_back_to_the_defaults()
    {
        var listed = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["R:0"] = _root.Path, ["R:1"] = _outside.Path }).Build();
        Assert.Equal([_root.Path, _outside.Path], PathRoots.FromConfiguration(listed, "R", []).Roots);

        var joined = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["R"] = _root.Path + Path.PathSeparator + _outside.Path }).Build();
        Assert.Equal([_root.Path, _outside.Path], PathRoots.FromConfiguration(joined, "R", []).Roots);

        var unset = new ConfigurationBuilder().Build();
        Assert.Equal([_outside.Path], PathRoots.FromConfiguration(unset, "R", [_outside.Path]).Roots);
    }
}
