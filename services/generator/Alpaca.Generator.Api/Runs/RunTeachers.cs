using System.Net.Sockets;
using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Seeds;
using Alpaca.Generator.Teacher;
using GenTeacherApi = Alpaca.Generator.Teacher.TeacherApi;
using ProtoTeacherApi = Alpaca.Contracts.V1.TeacherApi;

namespace Alpaca.Generator.Api.Runs;

/// <summary>The endpoint a run's teacher resolves to: where, which model, the key (never stored), and which addresses it may reach.</summary>
public sealed record TeacherEndpoint(Uri BaseUrl, string Model, GenTeacherApi Api, string? ApiKey, OutboundAddressPolicy Outbound, string Description);

/// <summary>
/// Teachers by name (docs/security.md): a run names one the operator configured
/// (<c>Alpaca:Generator:Teachers:{name}</c>), and the key sent to it comes only from that configuration's
/// env var or file. A caller's own <c>base_url</c> needs the <c>admin</c> scope and
/// <c>Alpaca:Generator:AllowCustomTeachers</c>, and is sent no key at all; <c>api_key_env</c> /
/// <c>api_key_file</c> are refused, since a caller choosing what the service reads is how a service-account
/// token reaches a hostile host.
/// </summary>
public sealed class RunTeachers(GeneratorOptions options)
{
    /// <summary>StartRun's check, with the caller's scopes: permission, then the address (so a refusal comes now, not from the background run).</summary>
    public async Task CheckAsync(TeacherConfig? teacher, bool callerIsAdmin, CancellationToken cancellationToken)
    {
        if (teacher is { Name.Length: 0, BaseUrl.Length: > 0 } && !callerIsAdmin)
        {
            throw new TeacherPermissionException("spec.teacher.base_url needs the admin scope; name a configured teacher in spec.teacher.name instead.");
        }

        var endpoint = Resolve(teacher);
        try
        {
            _ = await endpoint.Outbound.ResolveAsync(endpoint.BaseUrl.IdnHost, cancellationToken).ConfigureAwait(false);
        }
        catch (TeacherAddressRefusedException e)
        {
            throw new TeacherPermissionException("spec.teacher: " + e.Message);
        }
        catch (SocketException)
        {
            // Not resolvable now: the run's connections are checked again when they open, and a teacher that stays
            // unreachable pauses the run within its budget as before.
        }
    }

    /// <summary>The endpoint of a stored or new run's teacher (also when a run resumes, with today's configuration).</summary>
    public TeacherEndpoint Resolve(TeacherConfig? teacher)
    {
        teacher ??= new TeacherConfig();
        if (teacher.ApiKeyEnv.Length > 0 || teacher.ApiKeyFile.Length > 0)
        {
            throw new GeneratorInputException("spec.teacher.api_key_env and api_key_file are not accepted: a teacher's key comes only from the service's configuration (Alpaca:Generator:Teachers:NAME); name a configured teacher.");
        }

        if (teacher.Name.Length > 0)
        {
            return Named(teacher);
        }

        if (teacher.BaseUrl.Length == 0)
        {
            throw new GeneratorInputException($"spec.teacher.name is required: name a configured teacher ({Configured()}).");
        }

        if (!options.AllowCustomTeachers)
        {
            throw new TeacherPermissionException("spec.teacher.base_url is not allowed on this server (Alpaca:Generator:AllowCustomTeachers is off); name a configured teacher in spec.teacher.name.");
        }

        var url = Url(teacher.BaseUrl, "spec.teacher.base_url");
        var model = string.IsNullOrWhiteSpace(teacher.Model) ? throw new GeneratorInputException("spec.teacher.model is required.") : teacher.Model;
        var api = Api(teacher.Api, GenTeacherApi.Completions);

        // A caller's teacher gets no key: no env var, no file, nothing of the service's.
        return new TeacherEndpoint(url, model, api, null, new OutboundAddressPolicy(options.AllowPrivateTeacherAddresses), $"{url} {model} ({api})");
    }

    private TeacherEndpoint Named(TeacherConfig teacher)
    {
        if (teacher.BaseUrl.Length > 0)
        {
            throw new GeneratorInputException("spec.teacher: give name or base_url, not both.");
        }

        if (!options.Teachers.TryGetValue(teacher.Name, out var definition))
        {
            throw new GeneratorInputException($"spec.teacher.name '{teacher.Name}' is not a configured teacher ({Configured()}).");
        }

        var setting = $"{GeneratorOptions.Section}:Teachers:{teacher.Name}";
        var url = Url(definition.BaseUrl, setting + ":BaseUrl");
        var model = definition.Model.Length > 0 ? definition.Model : teacher.Model;
        if (model.Length == 0)
        {
            throw new GeneratorInputException($"spec.teacher.model is required: teacher '{teacher.Name}' configures no model.");
        }

        if (definition.Model.Length > 0 && teacher.Model.Length > 0 && !string.Equals(teacher.Model, definition.Model, StringComparison.Ordinal))
        {
            throw new GeneratorInputException($"spec.teacher.model '{teacher.Model}' differs from teacher '{teacher.Name}''s model; leave it empty.");
        }

        var configuredApi = definition.Api.Trim().ToLowerInvariant() switch
        {
            "" or "completions" => GenTeacherApi.Completions,
            "chat" or "chat-completions" or "chat_completions" => GenTeacherApi.ChatCompletions,
            var other => throw new InvalidOperationException($"{setting}:Api must be completions or chat; got '{other}'."),
        };
        string? key;
        try
        {
            key = ApiKeySource.Resolve(definition.ApiKeyEnv, definition.ApiKeyFile);
        }
        catch (GeneratorInputException)
        {
            // The operator's file: its path is not the caller's business.
            throw new GeneratorInputException($"teacher '{teacher.Name}': its API key file is missing or empty on the server ({setting}:ApiKeyFile).");
        }

        var api = Api(teacher.Api, configuredApi);
        var outbound = new OutboundAddressPolicy(options.AllowPrivateTeacherAddresses || definition.AllowPrivateAddresses);
        return new TeacherEndpoint(url, model, api, key, outbound, $"{teacher.Name}: {model} ({api})");
    }

    private string Configured() =>
        options.Teachers.Count == 0 ? "none are configured: Alpaca:Generator:Teachers:NAME" : "configured: " + string.Join(", ", options.Teachers.Keys.Order(StringComparer.Ordinal));

    private static Uri Url(string value, string field) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new GeneratorInputException($"{field} must be an http(s) URL; got '{value}'.");

    private static GenTeacherApi Api(ProtoTeacherApi api, GenTeacherApi fallback) => api switch
    {
        ProtoTeacherApi.ChatCompletions => GenTeacherApi.ChatCompletions,
        ProtoTeacherApi.Completions => GenTeacherApi.Completions,
        _ => fallback,
    };
}
