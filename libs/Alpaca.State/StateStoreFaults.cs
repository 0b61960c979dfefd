using StackExchange.Redis;

namespace Alpaca.State;

/// <summary>
/// Tells a state store that is briefly unreachable (Redis restarting or failing over, a dropped connection, a timeout)
/// from a real fault of the work. Work interrupted by the former is not failed: every write it made is durable and
/// fenced, so it is left as the last acknowledged write left it and resumed, here or on another replica, once the
/// store answers again.
/// </summary>
public static class StateStoreFaults
{
    /// <summary>True when <paramref name="error"/> (or an exception inside it) says the store could not be reached in time.</summary>
    public static bool IsUnavailable(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException or RedisTimeoutException)
            {
                return true;
            }

            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsUnavailable))
            {
                return true;
            }
        }

        return false;
    }
}
