namespace Alpaca.Generator.Teacher;

/// <summary>Which OpenAI endpoint the teacher is called through.</summary>
public enum TeacherApi
{
    /// <summary><c>POST /v1/completions</c>, as the reference called text-davinci-003 (prompts batched in one request).</summary>
    Completions,

    /// <summary><c>POST /v1/chat/completions</c>, the prompt as one user message, one request per prompt.</summary>
    ChatCompletions,
}
