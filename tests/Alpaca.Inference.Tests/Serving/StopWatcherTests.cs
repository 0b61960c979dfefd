using Alpaca.Inference.Serving;

namespace Alpaca.Inference.Tests.Serving;

/// <summary>Stop sequences over streamed text: what is held back, what is released, what matches.</summary>
public class StopWatcherTests
{
    [Fact]
    public void Text_is_released_as_soon_as_it_cannot_start_a_stop_sequence()
    {
        var m = new StopWatcher(["\n20", "###"]);
        Assert.Equal("Hello", m.Push("Hello", canStop: true));
        Assert.Equal(" wor", m.Push(" wor", canStop: true));
        Assert.Equal("ld", m.Push("ld\n", canStop: true));   // "\n" could start "\n20"
        Assert.Equal("\n1", m.Push("1", canStop: true));     // now it cannot
        Assert.Equal("", m.Push("#", canStop: true));
        Assert.Equal("# ok ", m.Push(" ok ", canStop: true));
        Assert.Null(m.Matched);
    }

    [Fact]
    public void A_stop_sequence_split_over_pieces_ends_the_text_before_it_and_is_named()
    {
        var m = new StopWatcher(["\n20", "20."]);
        var emitted = m.Push("1. a\n2", canStop: true) + m.Push("0. b", canStop: true);
        Assert.Equal("\n20", m.Matched); // the earliest match wins
        Assert.Equal("1. a", emitted);
        Assert.Equal("", m.Push("more", canStop: true));
        Assert.Equal("", m.Flush());
    }

    [Fact]
    public void Without_stops_everything_flows_and_flush_releases_the_tail()
    {
        var m = new StopWatcher([]);
        Assert.Equal("abc", m.Push("abc", canStop: true));
        var n = new StopWatcher(["xyz", ""]);
        Assert.Equal("ab", n.Push("abxy", canStop: true));
        Assert.Equal("xy", n.Flush());
        Assert.Null(n.Matched);
    }

    [Fact]
    public void Before_min_tokens_text_flows_and_never_matches()
    {
        var m = new StopWatcher(["stop"]);
        Assert.Equal("a stop b st", m.Push("a stop b st", canStop: false));
        Assert.Null(m.Matched);
        Assert.Equal("op", m.Push("op", canStop: true)); // "st" is gone already, so this completes nothing
        Assert.Equal(" ", m.Push(" st", canStop: true));
        Assert.Equal("", m.Push("op", canStop: true));
        Assert.Equal("stop", m.Matched);
    }
}
