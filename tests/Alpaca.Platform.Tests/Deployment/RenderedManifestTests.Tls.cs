using k8s.Models;

namespace Alpaca.Platform.Tests.Deployment;

/// <summary>The mtls overlay: every workload's certificate from its own secret, mounted read-only, and probes that work without one.</summary>
public sealed partial class RenderedManifestTests
{
    [Fact]
    public void The_mtls_overlay_mounts_each_workloads_certificate_from_its_secret()
    {
        var objects = Render("overlays/mtls");
        foreach (var (workload, _, spec) in Pods(objects))
        {
            var container = Assert.Single(spec.Containers);
            var env = container.Env.ToDictionary(e => e.Name);
            var volume = Assert.Single(spec.Volumes, v => v.Secret?.SecretName == $"alpaca-tls-{workload}");
            var mount = Assert.Single(container.VolumeMounts, m => m.Name == volume.Name);
            Assert.True(mount.ReadOnlyProperty == true, $"{workload}: the certificate volume is writable");
            foreach (var (setting, file) in new[] { ("CertificateFile", "tls.crt"), ("KeyFile", "tls.key"), ("CaFile", "ca.crt") })
            {
                Assert.Equal($"{mount.MountPath}/{file}", env[$"Alpaca__Tls__{setting}"].Value);
            }

            if (workload != "gateway")
            {
                // The gRPC port requires a client certificate, which the kubelet's gRPC probe cannot present.
                Assert.Null(container.ReadinessProbe.Grpc);
                Assert.Equal("/readyz", container.ReadinessProbe.HttpGet.Path);
                Assert.Equal("http", container.ReadinessProbe.HttpGet.Port.Value);
            }
        }

        var generator = Assert.Single(objects.OfType<V1Deployment>(), d => d.Metadata.Name == "generator");
        Assert.Contains(generator.Spec.Template.Spec.Containers[0].Env, e => e.Name == "Alpaca__Generator__DedupAddress" && e.Value == "https://dedup:8080");
    }
}
