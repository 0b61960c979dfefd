using System.CommandLine;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.State;
using StackExchange.Redis;

namespace Alpaca.Cli.Commands.Keys;

/// <summary>
/// <c>alpaca keys create|list|revoke</c>, directly against the platform's key store (the folder <c>alpaca up</c>
/// keeps in <c>STATE/auth</c>, or Redis): managing keys is the operator's, who holds the state, so it needs no key
/// of its own and no service. A revocation holds at once: nothing caches a key.
/// </summary>
public static class KeysCommand
{
    public static Command Build()
    {
        var state = new Option<string>("--state") { Description = "Local state folder of alpaca up (keys in STATE/auth).", DefaultValueFactory = _ => Path.Combine(".alpaca", "state") };
        var redis = new Option<string?>("--redis") { Description = "Keys in Redis at HOST:PORT instead (the platform's Alpaca:Redis)." };
        var prefix = new Option<string>("--prefix") { Description = "Redis key prefix (Alpaca:State:Prefix).", DefaultValueFactory = _ => "alpaca:" };
        var pepper = new Option<string?>("--pepper") { Description = "The platform's Alpaca:Auth:Pepper, when it sets one (default: $Alpaca__Auth__Pepper)." };
        var name = new Option<string>("--name") { Description = "What the key is for.", Required = true };
        var scopes = new Option<string>("--scopes") { Description = "Comma-separated: inference, data, training, admin.", Required = true };
        var tokensPerMinute = new Option<int?>("--tokens-per-minute") { Description = "This key's generated-token quota per minute (default: the platform's Alpaca:Auth:TokensPerMinute; 0 = unlimited)." };
        var id = new Argument<string>("id") { Description = "Key id (alpaca keys list)." };
        // The store options are accepted before or after the subcommand (`keys --state S create`, `keys create --state S`):
        // the docs and alpaca up's hint write them after it.
        foreach (var option in new Option[] { state, redis, prefix, pepper })
        {
            option.Recursive = true;
        }

        ApiKeyStore Store(ParseResult parse)
        {
            var p = parse.GetValue(pepper) ?? Environment.GetEnvironmentVariable("Alpaca__Auth__Pepper");
            IStateStore store = parse.GetValue(redis) is { } r
                ? new RedisStateStore(ConnectionMultiplexer.Connect(r), parse.GetValue(prefix)!)
                : new LocalFolderStateStore(Path.Combine(parse.GetValue(state)!, "auth"));
            return new ApiKeyStore(store, p);
        }

        var create = new Command("create", "Create a key and print it once (only its hash is kept).") { name, scopes, tokensPerMinute };
        create.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            IReadOnlyList<ApiScope> list;
            try
            {
                list = ApiScopes.Parse(parse.GetValue(scopes)!);
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"alpaca keys create: {ex.Message}");
                return 2;
            }

            if (parse.GetValue(tokensPerMinute) is < 0)
            {
                Console.Error.WriteLine("alpaca keys create: --tokens-per-minute must be 0 (unlimited) or more.");
                return 2;
            }

            var (record, key) = await Store(parse).CreateAsync(parse.GetValue(name)!, list, parse.GetValue(tokensPerMinute), ct);
            var quota = record.TokensPerMinute is { } q ? $", {q} tokens/min" : "";
            Console.Error.WriteLine($"created key {record.Id} ({record.Name}: {string.Join(",", record.Scopes.Select(s => s.Name()))}{quota}); it is shown only now");
            Console.WriteLine($"api-key: {key}");
            return 0;
        });

        var list = new Command("list", "List keys: id, name, scopes, tokens per minute, created, last used, revoked.");
        list.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            foreach (var k in (await Store(parse).ListAsync(ct)).OrderBy(k => k.CreatedAt))
            {
                Console.WriteLine($"{k.Id}\t{k.Name}\t{string.Join(",", k.Scopes.Select(s => s.Name()))}\ttpm {k.TokensPerMinute?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"}\tcreated {k.CreatedAt:u}\tlast-used {k.LastUsedAt?.ToString("u") ?? "never"}\t{(k.RevokedAt is { } r ? $"revoked {r:u}" : "active")}");
            }

            return 0;
        });

        var revoke = new Command("revoke", "Revoke a key by id; it is refused from its next call.") { id };
        revoke.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            if (!await Store(parse).RevokeAsync(parse.GetValue(id)!, ct))
            {
                Console.Error.WriteLine($"alpaca keys revoke: no key '{parse.GetValue(id)}'.");
                return 1;
            }

            Console.WriteLine($"revoked {parse.GetValue(id)}");
            return 0;
        });

        return new Command("keys", "Manage API keys (directly in the platform's key store).")
        {
            state, redis, prefix, pepper, create, list, revoke,
        };
    }
}
