using Alpaca.Generator.Seeds;

namespace Alpaca.Generator.Teacher;

/// <summary>
/// Where the API key comes from: a secret file (e.g. a mounted Kubernetes secret) wins over an environment
/// variable (default <c>OPENAI_API_KEY</c>, as the reference). The key is never written to run state.
/// </summary>
public static class ApiKeySource
{
    public const string DefaultEnvironmentVariable = "OPENAI_API_KEY";

    /// <summary>The key, or null when neither source gives one (local teachers often need none).</summary>
    public static string? Resolve(string? environmentVariable = DefaultEnvironmentVariable, string? secretFile = null)
    {
        if (!string.IsNullOrEmpty(secretFile))
        {
            if (!File.Exists(secretFile))
            {
                throw new GeneratorInputException($"API key file {secretFile} does not exist.");
            }

            var key = File.ReadAllText(secretFile).Trim();
            return key.Length > 0 ? key : throw new GeneratorInputException($"API key file {secretFile} is empty.");
        }

        if (!string.IsNullOrEmpty(environmentVariable) && Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } fromEnv)
        {
            return fromEnv.Trim();
        }

        return null;
    }
}
