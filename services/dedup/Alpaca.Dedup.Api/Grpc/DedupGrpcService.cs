using Alpaca.Contracts.V1;
using Alpaca.Dedup.Api.Namespaces;
using Alpaca.Dedup.Rouge;
using Alpaca.ServiceDefaults;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Alpaca.Dedup.Api.Grpc;

/// <summary>The dedup gRPC contract over <see cref="DedupNamespaces"/>.</summary>
/// <remarks>Sizes (<see cref="DedupLimits"/>) are checked before any scoring or locking.</remarks>
public sealed class DedupGrpcService(DedupNamespaces namespaces, DedupLimits limits) : DedupService.DedupServiceBase
{
    public override Task<ScorePairResponse> ScorePair(ScorePairRequest request, ServerCallContext context)
    {
        CheckLength(request.Target, "target");
        CheckLength(request.Prediction, "prediction");
        var score = RougeScore.Score(request.Target, request.Prediction);
        return Task.FromResult(new ScorePairResponse
        {
            Precision = score.Precision,
            Recall = score.Recall,
            Fmeasure = score.FMeasure,
            Lcs = score.Lcs,
            TargetTokens = RougeTokenizer.Tokenize(request.Target).Count,
            PredictionTokens = RougeTokenizer.Tokenize(request.Prediction).Count,
        });
    }

    public override async Task<CreateNamespaceResponse> CreateNamespace(CreateNamespaceRequest request, ServerCallContext context)
    {
        Name(request.Namespace);
        var threshold = request.Threshold == 0 ? Pool.DedupPool.DefaultThreshold : request.Threshold;
        if (threshold is <= 0 or > 1 || double.IsNaN(threshold))
        {
            throw GrpcErrors.InvalidArgument($"threshold must be in (0, 1], got {request.Threshold}.");
        }

        limits.CheckBatch(request.SeedInstructions.Count, "seed_instructions", limits.MaxSeedInstructions);
        foreach (var seed in request.SeedInstructions)
        {
            CheckLength(seed, "seed instruction");
        }

        try
        {
            var (state, created) = await namespaces.CreateAsync(request.Namespace, request.SeedInstructions, threshold, context.CancellationToken);
            return new CreateNamespaceResponse { Stats = Stats(state), Created = created };
        }
        catch (InvalidOperationException ex)
        {
            throw GrpcErrors.AlreadyExists(ex.Message);
        }
    }

    public override async Task<GetNamespaceResponse> GetNamespace(GetNamespaceRequest request, ServerCallContext context) =>
        new() { Stats = Stats(await Require(request.Namespace, context)) };

    public override async Task<ListNamespacesResponse> ListNamespaces(ListNamespacesRequest request, ServerCallContext context)
    {
        var pageSize = request.PageSize is > 0 and <= 1000 ? request.PageSize : 100;
        var names = (await namespaces.ListAsync(context.CancellationToken))
            .Where(n => string.CompareOrdinal(n, request.PageToken) > 0 || request.PageToken.Length == 0)
            .ToList();
        var response = new ListNamespacesResponse();
        foreach (var name in names.Take(pageSize))
        {
            if (await namespaces.GetAsync(name, context.CancellationToken) is { } state)
            {
                response.Namespaces.Add(Stats(state));
            }
        }

        if (names.Count > pageSize)
        {
            response.NextPageToken = names[pageSize - 1];
        }

        return response;
    }

    public override async Task<DeleteNamespaceResponse> DeleteNamespace(DeleteNamespaceRequest request, ServerCallContext context)
    {
        Name(request.Namespace);
        return new DeleteNamespaceResponse { Deleted = await namespaces.DeleteAsync(request.Namespace, context.CancellationToken) };
    }

    public override async Task<CheckCandidatesResponse> CheckCandidates(CheckCandidatesRequest request, ServerCallContext context)
    {
        limits.CheckBatch(request.Candidates.Count, "candidates", limits.MaxBatchCandidates);
        foreach (var candidate in request.Candidates)
        {
            limits.CheckId(candidate.Id);
            CheckLength(candidate.Instruction, "instruction");
        }

        var state = await Require(request.Namespace, context);
        var response = new CheckCandidatesResponse();
        await state.Lock.WaitAsync(context.CancellationToken);
        try
        {
            foreach (var candidate in request.Candidates)
            {
                var d = state.Pool.Check(candidate.Instruction, request.IncludeExtras);
                response.Decisions.Add(ToProto(state, new StoredDecision(
                    candidate.Id, candidate.Instruction, d.Kept, d.MaxF, d.MostSimilar, -1,
                    d.Extras?.MostSimilar.Select(s => new StoredSimilar(s.Position, s.Score)).ToList(), d.Extras?.AverageSimilarity), replayed: false));
            }
        }
        finally
        {
            state.Lock.Release();
        }

        return response;
    }

    public override async Task<SubmitCandidatesResponse> SubmitCandidates(SubmitCandidatesRequest request, ServerCallContext context)
    {
        limits.CheckBatch(request.Candidates.Count, "candidates", limits.MaxBatchCandidates);
        var candidates = request.Candidates.Select(Validate).ToList();
        var state = await Require(request.Namespace, context);
        var results = await namespaces.SubmitAsync(state, candidates, request.IncludeExtras, context.CancellationToken);
        var response = new SubmitCandidatesResponse { Stats = Stats(state) };
        response.Decisions.AddRange(results.Select(r => ToProto(state, r.Decision, r.Replayed)));
        return response;
    }

    public override async Task StreamCandidates(IAsyncStreamReader<StreamCandidatesRequest> requestStream, IServerStreamWriter<StreamCandidatesResponse> responseStream, ServerCallContext context)
    {
        Namespaces.NamespaceState? state = null;
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            if (state is null || (request.Namespace.Length > 0 && request.Namespace != state.Meta.Name))
            {
                state = await Require(request.Namespace.Length > 0 ? request.Namespace : state?.Meta.Name ?? "", context);
            }

            var result = (await namespaces.SubmitAsync(state, [Validate(request.Candidate ?? new Candidate())], request.IncludeExtras, context.CancellationToken)).Single();
            await responseStream.WriteAsync(new StreamCandidatesResponse { Decision = ToProto(state, result.Decision, result.Replayed) });
        }
    }

    public override async Task<ListPoolResponse> ListPool(ListPoolRequest request, ServerCallContext context)
    {
        var state = await Require(request.Namespace, context);
        if (request.Offset < 0)
        {
            throw GrpcErrors.InvalidArgument("offset must not be negative.");
        }

        var limit = request.Limit is > 0 and <= 10_000 ? request.Limit : 1000;
        var response = new ListPoolResponse();
        await state.Lock.WaitAsync(context.CancellationToken);
        try
        {
            response.PoolSize = state.Pool.Count;
            for (var i = request.Offset; i < state.Pool.Count && i < request.Offset + limit; i++)
            {
                response.Entries.Add(new SimilarInstruction { Position = i, Instruction = state.Pool[(int)i] });
            }
        }
        finally
        {
            state.Lock.Release();
        }

        return response;
    }

    private async Task<Namespaces.NamespaceState> Require(string name, ServerCallContext context)
    {
        Name(name);
        return await namespaces.GetAsync(name, context.CancellationToken)
            ?? throw GrpcErrors.NotFound($"Namespace '{name}' does not exist; create it with CreateNamespace and its seed instructions.");
    }

    private static void Name(string name)
    {
        try
        {
            DedupNamespaces.ValidateName(name);
        }
        catch (ArgumentException ex)
        {
            throw GrpcErrors.InvalidArgument(ex.Message);
        }
    }

    private (string Id, string Instruction) Validate(Candidate candidate)
    {
        if (string.IsNullOrEmpty(candidate.Id))
        {
            throw GrpcErrors.InvalidArgument("Every submitted candidate needs an id (it makes resubmission idempotent).");
        }

        limits.CheckId(candidate.Id);
        CheckLength(candidate.Instruction, "instruction");
        return (candidate.Id, candidate.Instruction);
    }

    private void CheckLength(string text, string what) => limits.CheckLength(text, what);

    private static Decision ToProto(Namespaces.NamespaceState state, StoredDecision d, bool replayed)
    {
        var decision = new Decision
        {
            CandidateId = d.CandidateId,
            Kept = d.Kept,
            MaxF = d.MaxF,
            MostSimilarPosition = d.MostSimilar,
            MostSimilarInstruction = d.MostSimilar >= 0 && d.MostSimilar < state.Pool.Count ? state.Pool[d.MostSimilar] : "",
            PoolPosition = d.PoolPosition,
            Replayed = replayed,
        };
        if (d.MostSimilarInstructions is { } similar)
        {
            decision.MostSimilarInstructions.AddRange(similar.Select(s => new SimilarInstruction { Position = s.Position, Score = s.Score, Instruction = state.Pool[s.Position] }));
        }

        if (d.AvgSimilarityScore is { } avg)
        {
            decision.AvgSimilarityScore = avg;
        }

        return decision;
    }

    private static NamespaceStats Stats(Namespaces.NamespaceState state) => new()
    {
        Namespace = state.Meta.Name,
        SeedCount = state.Meta.SeedCount,
        PoolSize = state.Pool.Count,
        Decided = state.KeptCount + state.RejectedCount,
        Kept = state.KeptCount,
        Rejected = state.RejectedCount,
        PairsScored = state.Pool.Stats.PairsScored,
        PairsAvoided = state.Pool.Stats.PairsAvoided,
        CreatedAt = Timestamp.FromDateTimeOffset(state.Meta.CreatedAt),
    };
}
