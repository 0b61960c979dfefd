using Alpaca.TestSupport;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Alpaca.Platform.Tests.Deployment;

/// <summary>
/// The Kustomize manifests, parsed strictly into the Kubernetes client's typed models (an unknown or
/// misspelt field fails), and checked for the invariants the platform relies on.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string K8s = Path.Combine(RepoPaths.Root, "k8s");
    private static readonly string[] Services = ["generator", "dedup", "trainer", "inference"];

    private static List<object> Load(string folder)
    {
        var objects = new List<object>();
        foreach (var file in Kustomization(folder).Resources.Where(r => r.EndsWith(".yaml", StringComparison.Ordinal)))
        {
            objects.AddRange(ManifestTypes.Parse(File.ReadAllText(Path.Combine(folder, file))));
        }

        return objects;
    }

    private static (List<string> Resources, string Text) Kustomization(string folder)
    {
        var path = Path.Combine(folder, "kustomization.yaml");
        var text = File.ReadAllText(path);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var resources = root.Children.TryGetValue(new YamlScalarNode("resources"), out var node)
            ? ((YamlSequenceNode)node).Children.Select(c => ((YamlScalarNode)c).Value!).ToList()
            : [];
        foreach (var resource in resources)
        {
            var full = Path.Combine(folder, resource);
            Assert.True(File.Exists(full) || File.Exists(Path.Combine(full, "kustomization.yaml")), $"{path} lists '{resource}', which does not exist");
        }

        return (resources, text);
    }

    [Fact]
    public void Every_service_runs_with_dapr_on_its_http_app_channel_and_grpc_readiness()
    {
        var objects = Load(Path.Combine(K8s, "base"));
        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        foreach (var name in Services)
        {
            var deployment = deployments[name];
            var annotations = deployment.Spec.Template.Metadata.Annotations;
            Assert.Equal("true", annotations["dapr.io/enabled"]);
            Assert.Equal(name, annotations["dapr.io/app-id"]);
            Assert.Equal("8081", annotations["dapr.io/app-port"]);
            Assert.Equal("http", annotations["dapr.io/app-protocol"]);
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            Assert.Equal(8080, container.ReadinessProbe.Grpc.Port);
            Assert.Equal("/healthz", container.LivenessProbe.HttpGet.Path);
            Assert.Matches(@":\d+\.\d+\.\d+$", container.Image);
            Assert.Contains(container.Env, e => e.Name == "Alpaca__Messaging__Transport" && e.Value == "dapr");
            Assert.Contains(container.Env, e => e.Name == "Alpaca__Service__BindAddress" && e.Value == "0.0.0.0");
            Assert.NotNull(container.Resources.Requests);
            Assert.DoesNotContain("nvidia.com/gpu", container.Resources.Limits?.Keys ?? []);
        }
    }

    [Fact]
    public void Services_select_their_pods_and_mark_the_grpc_port_as_h2c()
    {
        var objects = Load(Path.Combine(K8s, "base"));
        var deployments = objects.OfType<V1Deployment>().ToList();
        foreach (var service in objects.OfType<V1Service>())
        {
            var target = deployments.Single(d => service.Spec.Selector.All(s => d.Spec.Template.Metadata.Labels.TryGetValue(s.Key, out var v) && v == s.Value));
            var grpc = service.Spec.Ports.Single(p => p.Name == "grpc");
            Assert.Equal("kubernetes.io/h2c", grpc.AppProtocol);
            Assert.Contains(target.Spec.Template.Spec.Containers[0].Ports, p => p.Name == "grpc");
        }

        foreach (var pdb in objects.OfType<V1PodDisruptionBudget>())
        {
            Assert.Contains(deployments, d => pdb.Spec.Selector.MatchLabels.All(s => d.Spec.Template.Metadata.Labels[s.Key] == s.Value));
        }

        var hpa = Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>());
        Assert.Equal("inference", hpa.Spec.ScaleTargetRef.Name);
        var pubsub = objects.OfType<ManifestTypes.CustomResource>().Single(r => r.Kind == "Component");
        Assert.Equal("pubsub.redis", pubsub.Spec!["type"]?.ToString());
    }
}
