using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Api.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.ServiceDefaults;
using Grpc.Core;

namespace Alpaca.Generator.Api.Grpc;

/// <summary>
/// The generator gRPC contract over <see cref="RunManager"/>. Bad input (a seed file's malformed lines named
/// by line, a bad field, an unreadable prompt or key file) is INVALID_ARGUMENT; an unknown run NOT_FOUND.
/// </summary>
public sealed class GeneratorGrpcService(RunManager runs, GeneratorOptions options) : GeneratorService.GeneratorServiceBase
{
    public override async Task<StartRunResponse> StartRun(StartRunRequest request, ServerCallContext context)
    {
        try
        {
            RunRequestLimits.Check(request, options.Limits);
            return new StartRunResponse { Run = await runs.StartRunAsync(request, context.CancellationToken) };
        }
        catch (GeneratorInputException e)
        {
            throw GrpcErrors.InvalidArgument(e.Message);
        }
    }

    public override async Task<GetRunResponse> GetRun(GetRunRequest request, ServerCallContext context) =>
        new() { Run = await runs.GetRunAsync(request.RunId, context.CancellationToken) ?? throw NotFound(request.RunId) };

    public override Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context)
    {
        var (page, next) = runs.ListRuns(request.PageSize, request.PageToken);
        var response = new ListRunsResponse { NextPageToken = next };
        response.Runs.Add(page);
        return Task.FromResult(response);
    }

    public override async Task<CancelRunResponse> CancelRun(CancelRunRequest request, ServerCallContext context) =>
        new() { Run = await runs.CancelRunAsync(request.RunId, context.CancellationToken) ?? throw NotFound(request.RunId) };

    public override async Task WatchRun(WatchRunRequest request, IServerStreamWriter<WatchRunResponse> responseStream, ServerCallContext context)
    {
        var entry = await runs.FindAsync(request.RunId, context.CancellationToken) ?? throw NotFound(request.RunId);
        var channel = entry.Watch();
        try
        {
            await foreach (var run in channel.Reader.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(new WatchRunResponse { Run = run }, context.CancellationToken);
            }
        }
        finally
        {
            entry.Unwatch(channel);
        }
    }

    private static RpcException NotFound(string runId) => GrpcErrors.NotFound($"Run '{runId}' does not exist.");
}
