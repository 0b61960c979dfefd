using k8s;
using k8s.Models;

namespace Alpaca.Platform.Tests.Deployment;

/// <summary>
/// The kinds the manifests may contain, each mapped to the Kubernetes client's typed model, so a strict
/// parse fails on an unknown kind or a misspelt field.
/// </summary>
public static class ManifestTypes
{
    public static readonly Dictionary<string, Type> Map = new()
    {
        ["v1/Service"] = typeof(V1Service),
        ["v1/Secret"] = typeof(V1Secret),
        ["v1/PersistentVolumeClaim"] = typeof(V1PersistentVolumeClaim),
        ["apps/v1/Deployment"] = typeof(V1Deployment),
        ["apps/v1/StatefulSet"] = typeof(V1StatefulSet),
        ["policy/v1/PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
        ["networking.k8s.io/v1/NetworkPolicy"] = typeof(V1NetworkPolicy),
        ["autoscaling/v2/HorizontalPodAutoscaler"] = typeof(V2HorizontalPodAutoscaler),
        ["dapr.io/v1alpha1/Component"] = typeof(CustomResource),
        ["dapr.io/v1alpha1/Configuration"] = typeof(CustomResource),
        ["dapr.io/v1alpha1/Resiliency"] = typeof(CustomResource),
        ["keda.sh/v1alpha1/ScaledObject"] = typeof(CustomResource),
    };

    /// <summary>Parses a multi-document YAML strictly into the typed models.</summary>
    public static List<object> Parse(string yaml) => KubernetesYaml.LoadAllFromString(yaml, Map, strict: true).ToList();

    /// <summary>Every pod template's containers, with the workload that owns them.</summary>
    public static IEnumerable<(string Workload, V1Container Container)> Containers(IEnumerable<object> objects)
    {
        foreach (var o in objects)
        {
            var (name, spec) = o switch
            {
                V1Deployment d => (d.Metadata.Name, d.Spec.Template.Spec),
                V1StatefulSet s => (s.Metadata.Name, s.Spec.Template.Spec),
                _ => (null, null),
            };
            if (spec is null)
            {
                continue;
            }

            foreach (var c in spec.Containers.Concat(spec.InitContainers ?? []))
            {
                yield return (name!, c);
            }
        }
    }

    /// <summary>A custom resource (Dapr's Component, Configuration, Resiliency; KEDA's ScaledObject).</summary>
    public sealed class CustomResource : IKubernetesObject<V1ObjectMeta>
    {
        public string ApiVersion { get; set; } = "";

        public string Kind { get; set; } = "";

        public V1ObjectMeta Metadata { get; set; } = new();

        public Dictionary<string, object>? Spec { get; set; }

        public List<string>? Scopes { get; set; }
    }
}
