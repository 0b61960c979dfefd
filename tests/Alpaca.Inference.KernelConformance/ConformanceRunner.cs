using System.Diagnostics;
using System.Reflection;
using Alpaca.Inference.Kernels;
using Xunit.Sdk;

namespace Alpaca.Inference.KernelConformance;

/// <summary>
/// A minimal xunit-compatible runner: every public [Fact] and every [Theory] case (MemberData, InlineData)
/// of the compiled-in test classes, each on a fresh instance, as the xunit runner does. A skipped test
/// counts as a failure (nothing here may be skipped), and so does a theory without data. Exit code 0 only
/// when every case passed. Arguments: substrings of "Class.Method" to run only those.
/// </summary>
public static class ConformanceRunner
{
    public static async Task<int> RunAsync(Assembly assembly, string[] filters)
    {
        Console.WriteLine($"kernel conformance on {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}: {CpuKernels.Describe()}");
        Console.WriteLine($"kernel paths: {string.Join(", ", CpuKernels.Supported)}");
        var passed = 0;
        var failed = new List<string>();
        var watch = Stopwatch.StartNew();
        foreach (var type in assembly.GetTypes().Where(t => t is { IsPublic: true, IsClass: true, IsAbstract: false }).OrderBy(t => t.FullName))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).OrderBy(m => m.Name))
            {
                var fact = method.GetCustomAttribute<FactAttribute>();
                var name = $"{type.Name}.{method.Name}";
                if (fact is null || (filters.Length > 0 && !filters.Any(f => name.Contains(f, StringComparison.Ordinal))))
                {
                    continue;
                }

                if (fact.Skip is not null)
                {
                    failed.Add($"{name}: skipped ({fact.Skip})");
                    continue;
                }

                var cases = Cases(method, fact).ToList();
                if (cases.Count == 0)
                {
                    failed.Add($"{name}: a theory with no data");
                    continue;
                }

                foreach (var arguments in cases)
                {
                    var display = arguments.Length == 0 ? name : $"{name}({string.Join(", ", arguments.Select(a => a?.ToString() ?? "null"))})";
                    var error = await RunCaseAsync(type, method, arguments);
                    if (error is null)
                    {
                        passed++;
                    }
                    else
                    {
                        failed.Add($"{display}: {error}");
                        Console.WriteLine($"FAIL {display}\n  {error}");
                    }
                }
            }
        }

        Console.WriteLine($"kernel conformance: {passed} passed, {failed.Count} failed ({watch.Elapsed.TotalSeconds:F1} s)");
        foreach (var f in failed)
        {
            Console.WriteLine($"  failed: {f}");
        }

        return failed.Count == 0 && passed > 0 ? 0 : 1;
    }

    private static IEnumerable<object?[]> Cases(MethodInfo method, FactAttribute fact)
    {
        if (fact is not TheoryAttribute)
        {
            yield return [];
            yield break;
        }

        foreach (var data in method.GetCustomAttributes<DataAttribute>())
        {
            foreach (var row in data.GetData(method))
            {
                yield return row;
            }
        }
    }

    private static async Task<string?> RunCaseAsync(Type type, MethodInfo method, object?[] arguments)
    {
        object? instance = null;
        try
        {
            instance = method.IsStatic ? null : Activator.CreateInstance(type);
            var result = method.Invoke(instance, arguments);
            if (result is Task task)
            {
                await task;
            }

            return null;
        }
        catch (Exception ex)
        {
            var inner = ex is TargetInvocationException { InnerException: { } e } ? e : ex;
            return $"{inner.GetType().Name}: {inner.Message}";
        }
        finally
        {
            switch (instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }
}
