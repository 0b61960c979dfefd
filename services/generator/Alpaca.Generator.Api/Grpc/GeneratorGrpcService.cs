using Alpaca.Contracts.V1;
using Alpaca.Generator.Api.Configuration;
using Alpaca.Generator.Api.Runs;
using Alpaca.Generator.Seeds;
using Alpaca.ServiceDefaults;
using Alpaca.ServiceDefaults.Auth;
using Alpaca.ServiceDefaults.Confinement;
using Grpc.Core;

namespace Alpaca.Generator.Api.Grpc;

/// <summary>
/// The generator gRPC contract over <see cref="RunManager"/>. Bad input (a seed file's malformed lines named
/// by line, a bad field, an unknown teacher, a malformed path) is INVALID_ARGUMENT; a path outside its roots or
/// a teacher the caller may not use PERMISSION_DENIED; an unknown run NOT_FOUND.
/// </summary>
public sealed class GeneratorGrpcService(RunManager runs, RunTeachers teachers, GeneratorOptions options) : GeneratorService.GeneratorServiceBase
{
    public override async Task<StartRunResponse> StartRun(StartRunRequest request, ServerCallContext context)
    {
        try
        {
            RunRequestLimits.Check(request, options.Limits);
            if (request.Spec?.Teacher is { } teacher)
            {
                var admin = context.GetHttpContext().User.HasClaim(ApiScopes.ClaimType, ApiScope.Admin.Name());
                await teachers.CheckAsync(teacher, admin, context.CancellationToken);
            }

            return new StartRunResponse { Run = await runs.StartRunAsync(request, context.CancellationToken) };
        }
        catch (GeneratorInputException e)
        {
            throw GrpcErrors.InvalidArgument(e.Message);
        }
        catch (TeacherPermissionException e)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, e.Message));
        }
        catch (PathConfinementException e)
        {
            throw e.ToRpc();
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
