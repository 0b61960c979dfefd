namespace Alpaca.TestSupport.Teacher;

/// <summary>
/// The generator settings of tests that drive runs against their own loopback teachers (<see cref="TeacherServer"/>)
/// with files in temporary folders. Spelled out, because the service's defaults refuse all of it: a caller's
/// base_url (<c>AllowCustomTeachers</c>), a teacher on 127.0.0.1 (<c>AllowPrivateTeacherAddresses</c>), and
/// paths outside its data and output roots. The security tests start their hosts without these.
/// </summary>
public static class GeneratorTestSettings
{
    /// <summary>Custom loopback teachers allowed; seeds from the shared data and <paramref name="root"/>, outputs under <paramref name="root"/> (default: the temp folder every <see cref="TempDir"/> is in).</summary>
    public static Dictionary<string, string?> LoopbackTeachers(string? root = null) => new()
    {
        ["Alpaca:Generator:AllowCustomTeachers"] = "true",
        ["Alpaca:Generator:AllowPrivateTeacherAddresses"] = "true",
        ["Alpaca:Generator:OutputRoot"] = root ?? Path.GetTempPath(),
        ["Alpaca:Paths:DataRoots:0"] = root ?? Path.GetTempPath(),
        ["Alpaca:Paths:DataRoots:1"] = RepoPaths.SharedData,
    };
}
