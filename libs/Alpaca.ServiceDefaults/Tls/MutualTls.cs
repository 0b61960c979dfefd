using System.Net.Http;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Alpaca.ServiceDefaults.Tls;

/// <summary>
/// This host's certificate and the authorities it trusts for peers, loaded once at start: the Kestrel options of a
/// service's mTLS port (a client certificate required and checked against <see cref="TlsOptions.CaFile"/>) and the
/// client side every peer call uses (present the certificate, accept only a server certificate from those
/// authorities whose name matches the address).
/// </summary>
public sealed class MutualTls
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private MutualTls(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        Certificate = certificate;
        Authorities = authorities;
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2Collection Authorities { get; }

    /// <summary>Null when <see cref="TlsOptions"/> is off.</summary>
    public static MutualTls? Load(TlsOptions options)
    {
        options.Validate();
        if (!options.Enabled)
        {
            return null;
        }

        using var pem = X509Certificate2.CreateFromPemFile(options.CertificateFile!, options.KeyFile!);
        // A PEM key is ephemeral; a PKCS#12 round trip gives a key SslStream can use on every platform.
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(options.CaFile!);
        if (authorities.Count == 0)
        {
            throw new InvalidOperationException($"{TlsOptions.Section}:CaFile '{options.CaFile}' holds no certificate.");
        }

        return new MutualTls(certificate, authorities);
    }

    /// <summary>Kestrel's HTTPS options for a port that accepts only peers: no certificate, or one from another authority, fails the handshake.</summary>
    public HttpsConnectionAdapterOptions ServerOptions() => new()
    {
        ServerCertificate = Certificate,
        ClientCertificateMode = ClientCertificateMode.RequireCertificate,
        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificateValidation = (certificate, _, _) => ChainsToAuthority(certificate, ClientAuth),
    };

    /// <summary>Makes <paramref name="handler"/> present this host's certificate and trust only the configured authorities.</summary>
    public SocketsHttpHandler ConfigureClient(SocketsHttpHandler handler)
    {
        handler.SslOptions.ClientCertificates = [Certificate];
        // Always this certificate: the server's list of acceptable issuers (when it sends one) must not filter it out.
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            certificate is not null
            && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None // the name must match
            && ChainsToAuthority(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), ServerAuth);
        return handler;
    }

    /// <summary>A new handler for a peer call (gRPC channels of the services, the console's bridge).</summary>
    public SocketsHttpHandler CreateClientHandler() => ConfigureClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true });

    /// <summary>
    /// The certificate chains to one of the configured authorities (and only those: the system's roots are not
    /// consulted), is within its validity period and allows <paramref name="usage"/>. Revocation is not checked:
    /// short-lived certificates from the cluster's issuer are the rotation story (docs/security.md).
    /// </summary>
    private bool ChainsToAuthority(X509Certificate2 certificate, Oid usage)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        return chain.Build(certificate);
    }
}
