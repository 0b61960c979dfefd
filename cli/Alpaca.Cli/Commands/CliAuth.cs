using System.CommandLine;
using Alpaca.ServiceDefaults.Auth;
using Grpc.Net.Client;

namespace Alpaca.Cli.Commands;

/// <summary>
/// The API key every remote command sends (<c>Authorization: Bearer KEY</c>): <c>--api-key</c> on any command,
/// else <c>ALPACA_API_KEY</c>. Read once when the command line is parsed.
/// </summary>
public static class CliAuth
{
    public const string EnvironmentVariable = "ALPACA_API_KEY";

    public static readonly Option<string?> ApiKeyOption = new("--api-key")
    {
        Description = $"API key for the platform (default: ${EnvironmentVariable}).",
        Recursive = true,
    };

    public static string? Key { get; private set; }

    public static void Read(ParseResult parse) =>
        Key = parse.GetValue(ApiKeyOption) ?? Environment.GetEnvironmentVariable(EnvironmentVariable);

    /// <summary>A gRPC channel that sends the key (and nothing when none is given: the server then says UNAUTHENTICATED).</summary>
    public static GrpcChannel Channel(Uri address, SocketsHttpHandler? inner = null) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new BearerKeyHandler(Key, inner) });
}
