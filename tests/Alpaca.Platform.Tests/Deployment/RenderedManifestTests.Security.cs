using k8s.Models;

namespace Alpaca.Platform.Tests.Deployment;

/// <summary>
/// Issue 12 in the rendered manifests: secrets only by reference, hardened pods, and network policies that deny
/// by default and allow exactly the platform's flows (evaluated here as a CNI would, for pods of this namespace).
/// </summary>
public sealed partial class RenderedManifestTests
{
    private static readonly string[] AlpacaServices = ["generator", "dedup", "trainer", "inference"];

    // Names of settings that hold a secret: they may only come from a Secret (secretKeyRef), never a literal.
    private static bool IsSecretSetting(string name) =>
        name is "APP_API_TOKEN" or "DAPR_API_TOKEN" or "Alpaca__Redis" || name.StartsWith("REDIS", StringComparison.Ordinal)
        || new[] { "Token", "Pepper", "Password", "Secret", "ApiKey" }.Any(s => name.Contains(s, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<(string Workload, V1ObjectMeta Metadata, V1PodSpec Spec)> Pods(IEnumerable<object> objects) =>
        objects.Select(o => o switch
        {
            V1Deployment d => (d.Metadata.Name, d.Spec.Template.Metadata, d.Spec.Template.Spec),
            V1StatefulSet s => (s.Metadata.Name, s.Spec.Template.Metadata, s.Spec.Template.Spec),
            _ => (null!, null!, null!),
        }).Where(p => p.Item3 is not null);

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Secrets_come_only_from_secret_references(string overlay)
    {
        var objects = Render(overlay);
        // No secret values in the repository at all: the secrets are made in the cluster (scripts/k8s-secrets.sh).
        Assert.Empty(objects.OfType<V1Secret>());
        foreach (var (workload, container) in ManifestTypes.Containers(objects))
        {
            foreach (var e in container.Env ?? [])
            {
                if (IsSecretSetting(e.Name))
                {
                    Assert.True(e.Value is null && e.ValueFrom?.SecretKeyRef is not null, $"{overlay}: {workload}/{container.Name} sets {e.Name} without a secretKeyRef");
                }
            }
        }

        var pods = Pods(objects).ToDictionary(p => p.Workload);
        foreach (var name in AlpacaServices.Append("gateway"))
        {
            var env = Assert.Single(pods[name].Spec.Containers).Env.ToDictionary(e => e.Name);
            Assert.Equal(("alpaca-auth", "service-token"), (env["Alpaca__Auth__ServiceToken"].ValueFrom.SecretKeyRef.Name, env["Alpaca__Auth__ServiceToken"].ValueFrom.SecretKeyRef.Key));
            Assert.Equal(("alpaca-auth", "pepper"), (env["Alpaca__Auth__Pepper"].ValueFrom.SecretKeyRef.Name, env["Alpaca__Auth__Pepper"].ValueFrom.SecretKeyRef.Key));
            Assert.Equal("alpaca-redis", env["Alpaca__Redis"].ValueFrom.SecretKeyRef.Name);
            if (name == "gateway")
            {
                // Keys are shared by every host: the gateway reads them from Redis, not a folder of its own.
                Assert.Equal("redis", env["Alpaca__Auth__Store"].Value);
                continue;
            }

            // The app checks the token the sidecar sends: both read the same secret (Dapr reads its key `token`).
            var secret = pods[name].Metadata.Annotations["dapr.io/app-token-secret"];
            Assert.Equal((secret, "token"), (env["APP_API_TOKEN"].ValueFrom.SecretKeyRef.Name, env["APP_API_TOKEN"].ValueFrom.SecretKeyRef.Key));
        }

        // Dapr reaches Redis with its password, from the secret too.
        var pubsub = objects.OfType<ManifestTypes.CustomResource>().Single(r => r.Kind == "Component" && r.Metadata.Name == "pubsub");
        var metadata = ((List<object>)pubsub.Spec!["metadata"]).Cast<Dictionary<object, object>>().ToList();
        Assert.All(metadata.Where(m => IsSecretSetting((string)m["name"]) || ((string)m["name"]).Contains("redisHost", StringComparison.Ordinal)), m => Assert.False(m.ContainsKey("value"), $"pubsub {m["name"]} is a literal"));
        Assert.Contains(metadata, m => (string)m["name"] == "redisPassword" && m.ContainsKey("secretKeyRef"));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_pod_is_hardened(string overlay)
    {
        var pods = Pods(Render(overlay)).ToList();
        Assert.NotEmpty(pods);
        foreach (var (workload, _, spec) in pods)
        {
            var what = $"{overlay}: {workload}";
            Assert.True(spec.AutomountServiceAccountToken == false, $"{what} mounts a service-account token");
            Assert.True(spec.SecurityContext?.RunAsNonRoot == true, $"{what} may run as root");
            Assert.True(spec.SecurityContext.RunAsUser is > 0, $"{what} runs as uid 0 or an unset uid");
            Assert.Equal("RuntimeDefault", spec.SecurityContext.SeccompProfile?.Type);
            foreach (var c in spec.Containers.Concat(spec.InitContainers ?? []))
            {
                Assert.True(c.SecurityContext?.AllowPrivilegeEscalation == false, $"{what}/{c.Name} allows privilege escalation");
                Assert.True(c.SecurityContext.ReadOnlyRootFilesystem == true, $"{what}/{c.Name} has a writable root file system");
                Assert.Equal(["ALL"], c.SecurityContext.Capabilities?.Drop ?? []);
                Assert.Null(c.SecurityContext.Capabilities?.Add);
                Assert.NotEqual(true, c.SecurityContext.Privileged);
            }
        }

        // Inference only reads the shared volume (models); the trainer writes them.
        var inference = pods.Single(p => p.Workload == "inference").Spec.Containers.Single();
        Assert.True(inference.VolumeMounts.Single(m => m.Name == "data").ReadOnlyProperty == true);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Network_policies_deny_by_default_and_allow_the_platforms_flows(string overlay)
    {
        var objects = Render(overlay);
        var policies = objects.OfType<V1NetworkPolicy>().ToList();
        var deny = policies.Where(p => p.Spec.Ingress is null or { Count: 0 } && p.Spec.Egress is null or { Count: 0 }
            && p.Spec.PolicyTypes.Contains("Ingress") && p.Spec.PolicyTypes.Contains("Egress")).ToList();
        var pods = Pods(objects).ToDictionary(p => p.Workload, p => (IDictionary<string, string>)p.Metadata.Labels);
        // The default deny covers every pod here.
        Assert.All(pods, p => Assert.True(deny.Any(d => Selects(d.Spec.PodSelector, p.Value)), $"{overlay}: no default-deny policy selects {p.Key}"));

        var stranger = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "stranger" };
        // null: a client outside the namespace (the ingress controller, a user): only its ingress side is ours.
        bool Flow(IDictionary<string, string>? from, string to, int port) => Allows(policies, from, pods[to], port);

        foreach (var service in AlpacaServices)
        {
            Assert.True(Flow(pods["gateway"], service, 8080), $"{overlay}: gateway → {service}:8080 is blocked");
            Assert.False(Flow(stranger, service, 8080), $"{overlay}: any pod reaches {service}:8080 around the gateway");
            Assert.False(Flow(stranger, service, 8081), $"{overlay}: any pod reaches {service}:8081 (Dapr app channel)");
            Assert.False(Flow(null, service, 8080), $"{overlay}: a client outside reaches {service}:8080 around the gateway");
        }

        // The metrics port answers without a key: only the monitoring namespace (a namespace selector, which this
        // evaluation does not grant to any pod here) reaches it, never a pod of the namespace or a client outside.
        foreach (var workload in AlpacaServices.Append("gateway"))
        {
            Assert.False(Flow(stranger, workload, 9464), $"{overlay}: any pod reaches {workload}'s metrics port");
            Assert.False(Flow(null, workload, 9464), $"{overlay}: a client outside reaches {workload}'s metrics port");
        }

        Assert.True(Flow(null, "gateway", 8080) && Flow(null, "gateway", 8081), $"{overlay}: clients cannot reach the gateway");
        Assert.True(Flow(pods["gateway"], "inference", 8081), $"{overlay}: gateway → inference /v1 is blocked");
        Assert.True(Flow(pods["generator"], "dedup", 8080), $"{overlay}: generator → dedup is blocked");
        Assert.False(Flow(pods["trainer"], "generator", 8080), $"{overlay}: trainer → generator should not be allowed");
        Assert.False(Flow(pods["gateway"], "gateway", 6379), $"{overlay}: nothing listens for Redis on the gateway");
        if (pods.ContainsKey("redis"))
        {
            foreach (var client in AlpacaServices.Append("gateway"))
            {
                Assert.True(Flow(pods[client], "redis", 6379), $"{overlay}: {client} → redis is blocked");
            }

            Assert.False(Flow(stranger, "redis", 6379), $"{overlay}: any pod reaches Redis");
        }
    }

    // A connection is allowed when the source may send it (no policy selects it for Egress, or one allows it)
    // and the target may receive it (likewise for Ingress): NetworkPolicy semantics for pods of one namespace.
    private static bool Allows(List<V1NetworkPolicy> policies, IDictionary<string, string>? from, IDictionary<string, string> to, int port)
    {
        bool Side(IDictionary<string, string>? pod, string type, Func<V1NetworkPolicy, IEnumerable<(IList<V1NetworkPolicyPeer> Peers, IList<V1NetworkPolicyPort> Ports)>> rules, IDictionary<string, string>? peer)
        {
            if (pod is null)
            {
                return true;
            }

            var applying = policies.Where(p => p.Spec.PolicyTypes.Contains(type) && Selects(p.Spec.PodSelector, pod)).ToList();
            return applying.Count == 0 || applying.SelectMany(rules).Any(r =>
                (r.Ports is null or { Count: 0 } || r.Ports.Any(p => p.Port?.Value == port.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                && (r.Peers is null or { Count: 0 } || r.Peers.Any(x => x.PodSelector is not null && x.NamespaceSelector is null && x.IpBlock is null && peer is not null && Selects(x.PodSelector, peer))));
        }

        return Side(from, "Egress", p => (p.Spec.Egress ?? []).Select(e => (e.To, e.Ports)), to)
            && Side(to, "Ingress", p => (p.Spec.Ingress ?? []).Select(i => (i.FromProperty, i.Ports)), from);
    }

    private static bool Selects(V1LabelSelector selector, IDictionary<string, string> labels) =>
        (selector.MatchLabels ?? new Dictionary<string, string>()).All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)
        && (selector.MatchExpressions ?? []).All(e => e.OperatorProperty switch
        {
            "In" => labels.TryGetValue(e.Key, out var v) && e.Values.Contains(v),
            "NotIn" => !labels.TryGetValue(e.Key, out var v) || !e.Values.Contains(v),
            "Exists" => labels.ContainsKey(e.Key),
            "DoesNotExist" => !labels.ContainsKey(e.Key),
            _ => throw new InvalidOperationException($"selector operator {e.OperatorProperty}"),
        });
}
