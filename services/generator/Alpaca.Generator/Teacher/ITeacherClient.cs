namespace Alpaca.Generator.Teacher;

/// <summary>An OpenAI-compatible teacher model.</summary>
public interface ITeacherClient
{
    /// <summary>Which endpoint the client calls (chat replies get an echoed item header removed).</summary>
    TeacherApi Api { get; }

    /// <summary>
    /// Completes every prompt (one choice each). Throws <see cref="TeacherUnavailableException"/> when the
    /// teacher stays unreachable after the retries, <see cref="TeacherRejectedException"/> for a refusal that
    /// retrying cannot fix; an unreadable reply is returned as a <see cref="TeacherCompletion.Garbage"/> entry.
    /// </summary>
    Task<TeacherBatch> CompleteAsync(IReadOnlyList<string> prompts, TeacherSampling sampling, CancellationToken cancellationToken);
}
