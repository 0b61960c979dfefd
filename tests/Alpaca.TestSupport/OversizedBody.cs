using System.Net.Http.Headers;
using System.Text;

namespace Alpaca.TestSupport;

/// <summary>
/// Posts a JSON body over a server's limit the way a well-behaved client does, so the refusal can be read:
/// a declared length goes with <c>Expect: 100-continue</c> (the server answers 413 before the body is sent, instead
/// of closing the connection under a client still writing); a chunked body is only a little over the limit, so it
/// is all written before the server stops reading.
/// </summary>
public static class OversizedBody
{
    public static async Task<(int Status, string Body)> PostAsync(Uri baseAddress, string path, int limit, bool chunked, string? apiKey = null)
    {
        using var handler = new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(60) };
        using var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(120) };
        var json = Encoding.UTF8.GetBytes(new string(' ', limit + (chunked ? 1024 : 1)) + "{}");
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (chunked)
        {
            request.Content = new StreamContent(new MemoryStream(json));
            request.Headers.TransferEncodingChunked = true;
        }
        else
        {
            request.Content = new ByteArrayContent(json);
            request.Headers.ExpectContinue = true;
        }

        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
