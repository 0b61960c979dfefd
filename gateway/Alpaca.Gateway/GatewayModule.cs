using Alpaca.ServiceDefaults;

namespace Alpaca.Gateway;

/// <summary>The gateway as a composable host.</summary>
public static class GatewayModule
{
    public const string Name = "gateway";

    public static readonly ServiceModule Instance = new(Name, [], b => b.AddGatewayServices(), a => a.MapGatewayServices());
}
