using Alpaca.Contracts.V1;
using Alpaca.State;
using Google.Protobuf;

namespace Alpaca.Generator.Api.Runs;

/// <summary>
/// The StartRun request of each run (<c>generator/runs/{id}/request</c>, protobuf JSON): the teacher
/// endpoint and how to reach it are not part of <see cref="Generator.Runs.SelfInstructRunSpec"/>, and a resume
/// after a restart needs them. API keys are never in it: only the names of where to read them.
/// </summary>
public sealed class RunRequests(IStateStore state)
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public Task SaveAsync(string runId, RunSpec spec, CancellationToken cancellationToken) =>
        state.SetAsync(StateRunStore.Key(runId, "request"), System.Text.Encoding.UTF8.GetBytes(Formatter.Format(spec)), cancellationToken);

    public async Task<RunSpec?> LoadAsync(string runId, CancellationToken cancellationToken)
    {
        var bytes = await state.GetAsync(StateRunStore.Key(runId, "request"), cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : Parser.Parse<RunSpec>(System.Text.Encoding.UTF8.GetString(bytes));
    }
}
