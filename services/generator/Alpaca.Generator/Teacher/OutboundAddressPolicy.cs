using System.Net;
using System.Net.Sockets;

namespace Alpaca.Generator.Teacher;

/// <summary>
/// Which addresses a teacher connection may reach. Loopback, link-local (169.254/16, fe80::/10, where cloud
/// metadata services answer), private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), unspecified and
/// multicast addresses are refused unless <see cref="AllowPrivate"/>. The check is made on the resolved
/// address inside the connect callback (<see cref="CreateHandler"/>), so a hostname that resolves to a private
/// address — or re-resolves to one after an earlier check (DNS rebinding) — is caught where the socket opens.
/// </summary>
public sealed record OutboundAddressPolicy(bool AllowPrivate)
{
    /// <summary>Why <paramref name="address"/> is refused, or null when it may be reached.</summary>
    public string? Refusal(IPAddress address)
    {
        if (AllowPrivate)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }

        if (address.Equals(IPAddress.IPv6Any))
        {
            return "unspecified";
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 => "unspecified",
                10 => "private",
                100 when (b[1] & 0xC0) == 64 => "private", // carrier-grade NAT, 100.64/10
                127 => "loopback",
                169 when b[1] == 254 => "link-local",
                172 when (b[1] & 0xF0) == 16 => "private",
                192 when b[1] == 168 => "private",
                >= 224 => "multicast or reserved",
                _ => null,
            };
        }

        if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
        {
            return "link-local";
        }

        if (address.IsIPv6UniqueLocal)
        {
            return "private";
        }

        return address.IsIPv6Multicast ? "multicast" : null;
    }

    /// <summary>Resolves <paramref name="host"/> and returns its first allowed address; throws <see cref="TeacherAddressRefusedException"/> when none is.</summary>
    public async Task<IPAddress> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new TeacherAddressRefusedException($"the teacher host '{host}' has no address.");
        }

        // Every address must pass: a host that resolves to a public and a private address is refused, so the
        // answer cannot depend on which one the resolver returns first.
        foreach (var address in addresses)
        {
            if (Refusal(address) is { } why)
            {
                throw new TeacherAddressRefusedException($"the teacher host '{host}' resolves to a {why} address; such teachers are refused unless the operator allows them (Alpaca:Generator:AllowPrivateTeacherAddresses, or the teacher's AllowPrivateAddresses).");
            }
        }

        return addresses[0];
    }

    /// <summary>
    /// A handler whose every connection goes through <see cref="ResolveAsync"/> (no proxy, so the socket opens to
    /// the teacher itself; no redirects).
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        UseProxy = false,
        AllowAutoRedirect = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var address = await ResolveAsync(context.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
