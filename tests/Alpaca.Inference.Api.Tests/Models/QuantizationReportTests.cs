using Alpaca.Contracts.V1;

namespace Alpaca.Inference.Api.Tests.Models;

/// <summary>
/// ModelInfo.quantization for K-quant files as <c>alpaca convert --type</c> writes them: one type by its name, a
/// llama.cpp mixture (matrices of several types) by the <c>general.file_type</c> its GGUF declares, as llama.cpp names it.
/// </summary>
public sealed class QuantizationReportTests
{
    [Theory]
    [InlineData("q4_k_m", "Q4_K_M")]
    [InlineData("q5_k_m", "Q5_K_M")]
    [InlineData("q6_k", "Q6_K")]
    [InlineData("q4_k", "Q4_K")]
    public async Task A_k_quant_file_reports_its_type_or_its_mixture(string recipe, string quantization)
    {
        await using var server = await InferenceServer.StartAsync(TestModels.KQuant(recipe), modelName: recipe);
        var info = (await server.Client.GetModelInfoAsync(new GetModelInfoRequest { Model = recipe })).Info;
        Assert.Equal(quantization, info.Quantization);
    }
}
