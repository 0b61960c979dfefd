using Alpaca.Dedup.Api;
using Alpaca.Generator.Api;
using Alpaca.Inference.Api;
using Alpaca.ServiceDefaults;
using Alpaca.TestSupport;
using Alpaca.Trainer.Api;
using k8s.Models;

namespace Alpaca.Platform.Tests.Deployment;

/// <summary>
/// Every overlay rendered by <c>kubectl kustomize</c> (what a cluster receives), parsed strictly into typed
/// models and checked: images from the build's list, Dapr ids and ports matching the services'
/// configuration, probes and resources on every container, GPUs only where something runs on them.
/// </summary>
public sealed partial class RenderedManifestTests
{
    private static readonly string K8s = Path.Combine(RepoPaths.Root, "k8s");

    // Images the repository does not build (the dev overlay's Redis).
    private static readonly HashSet<string> ThirdPartyImages = ["redis:7.0.15"];

    // The Dapr app id each service's event bus uses (its module's Name, passed to AddEventBus).
    private static readonly Dictionary<string, string> AppIds = new()
    {
        ["generator"] = GeneratorModule.Name,
        ["dedup"] = DedupModule.Name,
        ["trainer"] = TrainerModule.Name,
        ["inference"] = InferenceModule.Name,
    };

    private static readonly string[] OverlayNames = ["base", "overlays/dev", "overlays/gpu", "overlays/keda", "overlays/mtls"];

    public static TheoryData<string> Overlays() => new(OverlayNames);

    private static List<object> Render(string overlay) => ManifestTypes.Parse(Kustomize.Render(Path.Combine(K8s, overlay)));

    [Fact]
    public void Every_overlay_folder_is_tested()
    {
        var folders = Directory.GetDirectories(Path.Combine(K8s, "overlays")).Select(d => "overlays/" + Path.GetFileName(d)).Append("base");
        Assert.Equal(folders.Order(), OverlayNames.Order());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_container_runs_an_image_from_the_build_list(string overlay)
    {
        var list = ImageList.Load();
        var built = list.Images.ToDictionary(list.Reference);
        var used = new HashSet<string>();
        foreach (var (workload, container) in ManifestTypes.Containers(Render(overlay)))
        {
            if (ThirdPartyImages.Contains(container.Image))
            {
                continue;
            }

            Assert.True(built.ContainsKey(container.Image), $"{overlay}: {workload}/{container.Name} runs '{container.Image}', which {ImageList.Path} does not build (it builds {string.Join(", ", built.Keys)})");
            Assert.Equal(workload, built[container.Image].Name);
            used.Add(container.Image);
        }

        // Every plain image is run by every overlay; the CUDA variants by the gpu overlay, which runs them instead.
        var gpu = overlay == "overlays/gpu";
        var cudaNames = list.Images.Where(i => i.Cuda).Select(i => i.Name).ToHashSet();
        var expected = list.Images.Where(i => gpu ? i.Cuda || !cudaNames.Contains(i.Name) : !i.Cuda).Select(list.Reference);
        Assert.Equal(expected.Order(), used.Order());
    }

    [Fact]
    public void The_build_list_names_each_host_project_once()
    {
        var list = ImageList.Load();
        Assert.Matches(@"^\d+\.\d+\.\d+$", list.Tag);
        Assert.Equal(list.Images.Count, list.Images.Select(i => (i.Name, i.Cuda)).Distinct().Count());
        foreach (var image in list.Images)
        {
            var project = Path.Combine(RepoPaths.Root, image.Project);
            Assert.True(File.Exists(project), $"{ImageList.Path}: {image.Name}'s project {image.Project} does not exist");
            Assert.Contains("Microsoft.NET.Sdk.Web", File.ReadAllText(project), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "deploy", "base", "build-base.sh")));
            Assert.Contains(image.Base, new[] { "bookworm", "trixie" });
        }

        // TorchSharp's libtorch needs GLIBCXX_3.4.32, which Debian 12 (bookworm) lacks (docs/trainer.md); the
        // trainer and inference (which carries the torch backend) have it, plain and CUDA variants alike.
        var torch = list.Images.Where(i => i.Name is "trainer" or "inference").ToList();
        Assert.Equal(4, torch.Count);
        Assert.All(torch, i => Assert.Equal("trixie", i.Base));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_dapr_app_id_and_port_match_the_services_configuration(string overlay)
    {
        var objects = Render(overlay);
        var defaults = new ServiceHostOptions();
        var pubsub = objects.OfType<ManifestTypes.CustomResource>().Single(r => r.Kind == "Component" && r.Metadata.Name == "pubsub");
        var deployments = objects.OfType<V1Deployment>().Where(d => d.Spec.Template.Metadata.Annotations?.ContainsKey("dapr.io/app-id") == true).ToList();
        Assert.Equal(AppIds.Keys.Order(), deployments.Select(d => d.Metadata.Name).Order());
        foreach (var deployment in deployments)
        {
            var name = deployment.Metadata.Name;
            var annotations = deployment.Spec.Template.Metadata.Annotations;
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            var env = container.Env.Where(e => e.Value is not null).ToDictionary(e => e.Name, e => e.Value);
            var httpPort = env.TryGetValue("Alpaca__Service__HttpPort", out var p) ? int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : defaults.HttpPort;
            var grpcPort = env.TryGetValue("Alpaca__Service__GrpcPort", out var g) ? int.Parse(g, System.Globalization.CultureInfo.InvariantCulture) : defaults.GrpcPort;

            Assert.Equal("true", annotations["dapr.io/enabled"]);
            Assert.Equal(AppIds[name], annotations["dapr.io/app-id"]);
            Assert.Equal(httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), annotations["dapr.io/app-port"]);
            Assert.Equal("http", annotations["dapr.io/app-protocol"]);
            // Prometheus scrapes the metrics port (/metrics without a key there, not on the API ports), which the
            // Service does not publish: only the pod's port, reached from the monitoring namespace (network policy).
            var metricsPort = env["Alpaca__Service__MetricsPort"];
            Assert.Equal(metricsPort, annotations["prometheus.io/port"]);
            Assert.Equal(int.Parse(metricsPort, System.Globalization.CultureInfo.InvariantCulture), container.Ports.Single(x => x.Name == "metrics").ContainerPort);
            var service = objects.OfType<V1Service>().Single(x => x.Metadata.Name == name);
            Assert.DoesNotContain(service.Spec.Ports, x => x.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) == metricsPort || x.TargetPort?.Value == "metrics");
            Assert.Equal(httpPort, container.Ports.Single(x => x.Name == "http").ContainerPort);
            Assert.Equal(grpcPort, container.Ports.Single(x => x.Name == "grpc").ContainerPort);
            Assert.Equal("dapr", env["Alpaca__Messaging__Transport"]);
            Assert.Contains(AppIds[name], pubsub.Scopes ?? []);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Every_container_has_probes_and_resources(string overlay)
    {
        var containers = ManifestTypes.Containers(Render(overlay)).ToList();
        Assert.NotEmpty(containers);
        foreach (var (workload, c) in containers)
        {
            var what = $"{overlay}: {workload}/{c.Name}";
            Assert.True(c.ReadinessProbe is not null, $"{what} has no readinessProbe");
            Assert.True(c.LivenessProbe is not null, $"{what} has no livenessProbe");
            Assert.True(c.Resources?.Requests?.ContainsKey("cpu") == true, $"{what} requests no cpu");
            Assert.True(c.Resources?.Requests?.ContainsKey("memory") == true, $"{what} requests no memory");
            Assert.True(c.Resources?.Limits?.ContainsKey("memory") == true, $"{what} has no memory limit");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void Only_inference_and_the_trainer_on_the_gpu_overlay_ask_for_a_gpu(string overlay)
    {
        var withGpu = ManifestTypes.Containers(Render(overlay))
            .Where(x => x.Container.Resources?.Limits?.ContainsKey("nvidia.com/gpu") == true)
            .Select(x => x.Workload)
            .ToList();
        // The gpu overlay serves with the torch backend on cuda and trains on cuda; nothing else uses a GPU.
        Assert.Equal(overlay == "overlays/gpu" ? ["inference", "trainer"] : [], withGpu.Order());
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void The_trainer_rolls_out_one_pod_at_a_time_and_generator_replicas_share_the_runs(string overlay)
    {
        var deployments = Render(overlay).OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        // The trainer holds a GPU: a rolling update would ask for a second one.
        Assert.Equal("Recreate", deployments["trainer"].Spec.Strategy?.Type);
        Assert.Equal(1, deployments["trainer"].Spec.Replicas);

        // Generator runs are leased and fenced: pods overlap in a rollout and never all go at once.
        var generator = deployments["generator"].Spec;
        Assert.Equal("RollingUpdate", generator.Strategy?.Type);
        Assert.Equal("0", generator.Strategy?.RollingUpdate?.MaxUnavailable?.Value);
        Assert.Equal(overlay == "overlays/dev" ? 1 : 2, generator.Replicas);
        var pdb = Assert.Single(Render(overlay).OfType<V1PodDisruptionBudget>(), p => p.Metadata.Name == "generator");
        Assert.Equal("1", pdb.Spec.MinAvailable?.Value);
    }

    [Fact]
    public void Keda_scales_inference_on_its_waiting_requests_beside_cpu()
    {
        var objects = Render("overlays/keda");
        var hpa = Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>());
        var scaled = objects.OfType<ManifestTypes.CustomResource>().Single(r => r.Kind == "ScaledObject");
        var spec = scaled.Spec!;
        Assert.Equal("inference", ((Dictionary<object, object>)spec["scaleTargetRef"])["name"]);
        // It adopts the base's CPU HPA instead of a second HPA fighting it over the Deployment.
        Assert.Equal("true", scaled.Metadata.Annotations["scaledobject.keda.sh/transfer-hpa-ownership"]);
        var hpaConfig = (Dictionary<object, object>)((Dictionary<object, object>)spec["advanced"])["horizontalPodAutoscalerConfig"];
        Assert.Equal(hpa.Metadata.Name, hpaConfig["name"]);

        var triggers = ((List<object>)spec["triggers"]).Cast<Dictionary<object, object>>().ToList();
        Assert.Equal(["cpu", "prometheus"], triggers.Select(t => (string)t["type"]).Order());
        var query = (string)((Dictionary<object, object>)triggers.Single(t => (string)t["type"] == "prometheus")["metadata"])["query"];
        // The metric is one the inference service exports (its meter, served on /metrics).
        var metric = System.Text.RegularExpressions.Regex.Match(query, @"alpaca_[a-z_]+").Value;
        var metrics = File.ReadAllText(Path.Combine(RepoPaths.Root, "services", "inference", "Alpaca.Inference.Api", "Metrics", "InferenceMetrics.cs"));
        Assert.Equal("alpaca_num_requests_waiting", metric);
        Assert.Contains($"\"{metric}\"", metrics, StringComparison.Ordinal);
    }
}
