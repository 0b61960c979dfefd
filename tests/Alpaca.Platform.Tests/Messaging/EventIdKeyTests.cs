using Alpaca.Messaging;
using Alpaca.State;

namespace Alpaca.Platform.Tests.Messaging;

/// <summary>The event-id key is injective and always a valid state-key segment.</summary>
public sealed class EventIdKeyTests
{
    [Theory]
    [InlineData("a_b/c", "a/b_c")]
    [InlineData("a_b", "a/b")]
    [InlineData("x y", "x_20y")]
    [InlineData("x_y", "x_5Fy")]
    [InlineData(".", "_2E")]
    [InlineData("é", "_C3_A9")]
    public void Ids_that_differ_get_different_keys(string one, string other)
    {
        Assert.NotEqual(EventIdKey.Encode(one), EventIdKey.Encode(other));
    }

    [Fact]
    public void Plain_ids_stay_readable_and_every_key_is_a_valid_segment()
    {
        Assert.Equal("3f2a9c-evt:1.2", EventIdKey.Encode("3f2a9c-evt:1.2"));
        string[] ids = ["a_b/c", "..", ".", "with space", "ünï", new string('x', 500), new string('/', 80), "_h" + new string('0', 64)];
        foreach (var id in ids)
        {
            var key = EventIdKey.Encode(id);
            Assert.Equal(key, StateKey.Validate(key));
            Assert.DoesNotContain('/', key);
            Assert.True(key.Length <= EventIdKey.MaxLength);
        }

        Assert.StartsWith("_h", EventIdKey.Encode(new string('x', 500)));
        Assert.NotEqual(EventIdKey.Encode("_h" + new string('0', 64)), EventIdKey.Encode(new string('x', 500)));
    }

    [Fact]
    public void Many_distinct_ids_map_to_distinct_keys()
    {
        var alphabet = new[] { "a", "_", "/", "b", " ", "5", "F", "2" };
        var ids = (from x in alphabet from y in alphabet from z in alphabet select x + y + z).ToList();
        Assert.Equal(ids.Count, ids.Select(EventIdKey.Encode).Distinct(StringComparer.Ordinal).Count());
    }
}
