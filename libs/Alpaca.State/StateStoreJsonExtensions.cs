using System.Text.Json;

namespace Alpaca.State;

/// <summary>Typed JSON helpers over <see cref="IStateStore"/>.</summary>
public static class StateStoreJsonExtensions
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static async Task<T?> GetJsonAsync<T>(this IStateStore store, string key, CancellationToken cancellationToken = default)
    {
        var bytes = await store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        return bytes is null ? default : JsonSerializer.Deserialize<T>(bytes, Options);
    }

    public static Task SetJsonAsync<T>(this IStateStore store, string key, T value, CancellationToken cancellationToken = default) =>
        store.SetAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, Options), cancellationToken);

    public static Task<long> AppendJsonAsync<T>(this IStateStore store, string listKey, T item, CancellationToken cancellationToken = default) =>
        store.AppendAsync(listKey, JsonSerializer.SerializeToUtf8Bytes(item, Options), cancellationToken);

    public static async Task<IReadOnlyList<T>> ReadJsonListAsync<T>(this IStateStore store, string listKey, long start = 0, long count = long.MaxValue, CancellationToken cancellationToken = default)
    {
        var items = await store.ReadListAsync(listKey, start, count, cancellationToken).ConfigureAwait(false);
        return items.Select(b => JsonSerializer.Deserialize<T>(b, Options)!).ToList();
    }
}
