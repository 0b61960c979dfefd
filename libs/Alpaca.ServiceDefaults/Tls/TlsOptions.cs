namespace Alpaca.ServiceDefaults.Tls;

/// <summary>
/// Configuration section <c>Alpaca:Tls</c>: mutual TLS between the gateway and the services (docs/security.md,
/// "Mutual TLS"). Off unless <see cref="CertificateFile"/> is set; then all three files are required.
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "Alpaca:Tls";

    /// <summary>
    /// PEM certificate of this host, presented as the server certificate on a service's gRPC port and as the
    /// client certificate on every call to a peer (so it needs both the serverAuth and clientAuth usages).
    /// </summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="CertificateFile"/> (PKCS#8 or RSA/EC; unencrypted, from a mounted secret).</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// PEM bundle of the authorities a peer's certificate must chain to, both ways: a service accepts a client
    /// certificate only if it chains to one of these, and a caller accepts a server certificate the same way.
    /// The system's roots are not used.
    /// </summary>
    public string? CaFile { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(CertificateFile) || !string.IsNullOrEmpty(KeyFile) || !string.IsNullOrEmpty(CaFile);

    /// <summary>A half-configured TLS would silently fall back to plain text somewhere: refuse to start instead.</summary>
    public void Validate()
    {
        if (!Enabled)
        {
            return;
        }

        foreach (var (name, value) in new[] { (nameof(CertificateFile), CertificateFile), (nameof(KeyFile), KeyFile), (nameof(CaFile), CaFile) })
        {
            if (string.IsNullOrEmpty(value))
            {
                throw new InvalidOperationException($"{Section}:{name} must be set: mutual TLS needs {Section}:CertificateFile, :KeyFile and :CaFile together.");
            }

            if (!File.Exists(value))
            {
                throw new InvalidOperationException($"{Section}:{name}: the file '{value}' does not exist.");
            }
        }
    }
}
