using System.Diagnostics;

namespace Alpaca.Platform.Tests.Deployment;

/// <summary>
/// Renders a kustomization with <c>kubectl kustomize</c>, as a cluster would receive it. The manifests keep
/// to kustomize v2.0.3's syntax, so Debian 12's kubernetes-client (kubectl 1.20, which scripts/setup.sh
/// installs when no kubectl is on PATH) renders them as newer kubectl versions do.
/// </summary>
public static class Kustomize
{
    public static string Render(string folder)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(folder);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("kubectl is not on PATH; scripts/setup.sh installs Debian's kubernetes-client.", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"kubectl kustomize {folder} did not finish in 2 minutes");
            }

            Assert.True(process.ExitCode == 0, $"kubectl kustomize {folder} failed ({process.ExitCode}): {stderr.Result}");
            return stdout.Result;
        }
    }
}
