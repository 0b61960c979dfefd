using System.Text.Json.Nodes;

namespace Alpaca.Tokenizers.Tests.Support;

internal static class Json
{
    public static int[][] IdLists(JsonNode? node) =>
        node!.AsArray().Select(list => list!.AsArray().Select(id => id!.GetValue<int>()).ToArray()).ToArray();

    public static JsonArray Strings(IEnumerable<string> texts) => new(texts.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
}
