using System.Net;
using System.Text;
using System.Text.Json;
using Alpaca.ServiceDefaults.Auth;
using Microsoft.Playwright;

namespace Alpaca.Console.Tests;

/// <summary>What the console's routes let through: files without a key, data only with a key of the method's scope.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleApiTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task The_files_answer_without_a_key_and_every_data_call_needs_one_of_its_scope()
    {
        using var anonymous = fixture.Platform.GatewayHttpClient(key: "");
        using var index = await anonymous.GetAsync("/console/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("frame-ancestors 'none'", index.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/console/js/app.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/console/js/nothing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ListJobsAsync(anonymous)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/console/api/reports")).StatusCode);

        // A data key may call the generator and dedup, not the trainer: the service checks the method's scope.
        var data = (await fixture.Platform.Keys!.CreateAsync("console-data", [ApiScope.Data])).Key;
        using var dataClient = fixture.Platform.GatewayHttpClient(data);
        using var refused = await ListJobsAsync(dataClient);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("PERMISSION_DENIED", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        using var namespaces = await dataClient.PostAsync("/console/api/grpc/alpaca.v1.DedupService/ListNamespaces", Json("{}"));
        Assert.Equal(HttpStatusCode.OK, namespaces.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await dataClient.GetAsync("/console/api/reports")).StatusCode);

        var training = (await fixture.Platform.Keys.CreateAsync("console-training", [ApiScope.Training])).Key;
        using var trainingClient = fixture.Platform.GatewayHttpClient(training);
        using var jobs = await ListJobsAsync(trainingClient);
        Assert.Equal(HttpStatusCode.OK, jobs.StatusCode);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await jobs.Content.ReadAsStringAsync()).RootElement.GetProperty("jobs").ValueKind);

        // Making a model the default is admin's, as LoadModel is.
        var inference = (await fixture.Platform.Keys.CreateAsync("console-inference", [ApiScope.Inference])).Key;
        using var inferenceClient = fixture.Platform.GatewayHttpClient(inference);
        Assert.Equal(HttpStatusCode.Forbidden, (await inferenceClient.PostAsync("/console/api/grpc/alpaca.v1.InferenceService/SetDefaultModel", Json("""{"model":"slow"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await inferenceClient.GetAsync("/console/api/reports")).StatusCode);
    }

    [Fact]
    public async Task The_bridge_refuses_bad_requests_and_report_paths_outside_the_folder()
    {
        using var admin = fixture.Platform.GatewayHttpClient();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/console/api/grpc/alpaca.v1.TrainerService/NoSuchMethod", Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsync("/console/api/grpc/alpaca.v1.TrainerService/GetJob", Json("""{"jobId": 5"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsync("/console/api/grpc/alpaca.v1.DedupService/StreamCandidates", Json("{}"))).StatusCode);
        using var missing = await admin.PostAsync("/console/api/grpc/alpaca.v1.TrainerService/GetJob", Json("""{"jobId":"nope"}"""));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        Directory.CreateDirectory(fixture.Platform.ReportsDirectory);
        var outside = Path.Combine(Path.GetDirectoryName(fixture.Platform.ReportsDirectory)!, "secret.html");
        await File.WriteAllTextAsync(outside, "<p>not a report</p>");
        foreach (var path in new[] { "..%2Fsecret.html", "%2E%2E/secret.html", Uri.EscapeDataString(outside) })
        {
            using var reply = await admin.GetAsync("/console/api/reports/" + path);
            Assert.True(reply.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {reply.StatusCode}");
        }
    }

    [Fact]
    public async Task A_refused_key_is_asked_for_again_and_none_is_kept_beyond_the_tab()
    {
        var context = await fixture.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.Platform.Console.ToString());
        await page.GetByTestId("api-key-input").FillAsync("alp_0123456789abcdef_" + new string('x', 43));
        await page.GetByTestId("api-key-save").ClickAsync();
        // The first data call (the model list) is refused: the dialog comes back, saying why.
        await Assertions.Expect(page.GetByTestId("api-key-error")).ToContainTextAsync("refused");
        await ConsoleFixture.ScreenshotAsync(page, "key-refused");
        await page.GetByTestId("api-key-input").FillAsync(fixture.Platform.AdminKey!);
        await page.GetByTestId("api-key-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("model-select").Locator("option[value=slow]")).ToHaveCountAsync(1);

        Assert.Equal(fixture.Platform.AdminKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('alpaca.apiKey')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
        Assert.Empty(await context.CookiesAsync());
        await context.CloseAsync();
    }

    private static Task<HttpResponseMessage> ListJobsAsync(HttpClient client) =>
        client.PostAsync("/console/api/grpc/alpaca.v1.TrainerService/ListJobs", Json("{}"));

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
