using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Alpaca.Generator.Teacher;

/// <summary>
/// An OpenAI-compatible teacher over <see cref="HttpClient"/>: <c>/v1/completions</c> (a round's prompts in
/// one request, as the reference) or <c>/v1/chat/completions</c> (one request per prompt, in parallel).
/// Every request gets its own timeout; 429/408/409/5xx, timeouts and transport errors are retried with
/// back-off and jitter (429's <c>Retry-After</c> honoured); a "context exceeded" refusal is retried at once
/// with max_tokens × 0.8, as the reference did, and does not use up the retry budget.
/// </summary>
public sealed class OpenAiTeacherClient : ITeacherClient, IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TeacherOptions _options;
    private readonly Random _jitter;

    public OpenAiTeacherClient(TeacherOptions options, HttpClient? http = null, Random? jitter = null)
    {
        _options = options;
        _ownsHttp = http is null;

        // Each request carries its own timeout (RequestTimeout), so the client-wide one is switched off; a
        // caller's HttpClient should have an infinite or longer Timeout, or it will cut long completions short.
        _http = http ?? new HttpClient(options.Outbound?.CreateHandler() ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        if (http is null && options.MaxResponseBytes is { } max)
        {
            _http.MaxResponseContentBufferSize = max;
        }
        _jitter = jitter ?? Random.Shared;
    }

    public TeacherApi Api => _options.Api;

    public async Task<TeacherBatch> CompleteAsync(IReadOnlyList<string> prompts, TeacherSampling sampling, CancellationToken cancellationToken)
    {
        if (prompts.Count == 0)
        {
            return new TeacherBatch([], default, 0, 0);
        }

        if (_options.Api == TeacherApi.Completions && _options.BatchPrompts)
        {
            return await RequestAsync(OpenAiWire.CompletionsPath, prompts, sampling, cancellationToken).ConfigureAwait(false);
        }

        var path = _options.Api == TeacherApi.Completions ? OpenAiWire.CompletionsPath : OpenAiWire.ChatPath;
        var parts = await Task.WhenAll(prompts.Select(p => RequestAsync(path, [p], sampling, cancellationToken))).ConfigureAwait(false);
        return new TeacherBatch(
            [.. parts.SelectMany(p => p.Completions)],
            parts.Aggregate(default(TokenUsage), (sum, p) => sum + p.Usage),
            parts.Sum(p => p.Retries),
            parts.Sum(p => p.ContextShrinks));
    }

    private async Task<TeacherBatch> RequestAsync(string path, IReadOnlyList<string> prompts, TeacherSampling sampling, CancellationToken cancellationToken)
    {
        var chat = path == OpenAiWire.ChatPath;
        var maxTokens = sampling.MaxTokens;
        var retries = 0;
        var shrinks = 0;
        var url = new Uri(_options.BaseUrl.ToString().TrimEnd('/') + "/" + path);
        for (var attempt = 0; ; attempt++)
        {
            var body = chat
                ? OpenAiWire.ChatBody(_options.Model, prompts[0], sampling, maxTokens)
                : OpenAiWire.CompletionsBody(_options.Model, prompts, sampling, maxTokens);
            string failure;
            TimeSpan? retryAfter = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.RequestTimeout);
                try
                {
                    using var request = NewRequest(url, body);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                    var text = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                    var status = (int)response.StatusCode;
                    if (response.IsSuccessStatusCode)
                    {
                        var (completions, usage) = OpenAiWire.ReadReply(text, prompts.Count, chat);
                        return new TeacherBatch(completions, usage, retries, shrinks);
                    }

                    var (message, code) = OpenAiWire.ReadError(text);
                    if (OpenAiWire.IsContextExceeded(status, message, code))
                    {
                        var smaller = (int)(maxTokens * 0.8);
                        if (smaller < 1)
                        {
                            throw new TeacherRejectedException($"The teacher's context is exceeded even with max_tokens {maxTokens}: {message}", status);
                        }

                        maxTokens = smaller;
                        shrinks++;
                        attempt--;
                        continue;
                    }

                    if (!IsRetryable(response.StatusCode))
                    {
                        throw new TeacherRejectedException($"The teacher at {url} refused the request: HTTP {status} {response.ReasonPhrase}: {message}", status);
                    }

                    failure = $"HTTP {status} {response.ReasonPhrase}: {message}";
                    retryAfter = RetryAfter(response);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = $"no reply within {_options.RequestTimeout.TotalSeconds:0.#} s";
                }
                catch (HttpRequestException e) when (Refused(e) is { } refused)
                {
                    // The outbound policy's refusal: another try reaches the same address.
                    throw new TeacherRejectedException($"The teacher at {url} was not contacted: {refused.Message}", 0);
                }
                catch (HttpRequestException e)
                {
                    failure = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
                }
                catch (IOException e)
                {
                    failure = e.Message;
                }
            }

            if (attempt >= _options.Retry.MaxRetries)
            {
                throw new TeacherUnavailableException($"The teacher at {url} failed {attempt + 1} time(s); last: {failure}", attempt + 1);
            }

            retries++;
            await Task.Delay(_options.Retry.Delay(attempt, retryAfter, _jitter), cancellationToken).ConfigureAwait(false);
        }
    }

    private HttpRequestMessage NewRequest(Uri url, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        }

        if (!string.IsNullOrEmpty(_options.Organization))
        {
            request.Headers.Add("OpenAI-Organization", _options.Organization);
        }

        return request;
    }

    private static TeacherAddressRefusedException? Refused(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is TeacherAddressRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    private static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or HttpStatusCode.Conflict || (int)status >= 500;

    /// <summary><c>retry-after-ms</c> (OpenAI's), else <c>Retry-After</c> as seconds or an HTTP date.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var millis))
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            return date - DateTimeOffset.UtcNow;
        }

        // Fractional seconds are not valid HTTP but some servers send them.
        if (response.Headers.TryGetValues("Retry-After", out var raw)
            && double.TryParse(raw.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return null;
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
