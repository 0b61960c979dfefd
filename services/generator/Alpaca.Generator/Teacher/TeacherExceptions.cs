namespace Alpaca.Generator.Teacher;

/// <summary>The teacher could not be reached or kept failing after every retry; the run pauses and tries again.</summary>
public sealed class TeacherUnavailableException(string message, int attempts, Exception? inner = null) : Exception(message, inner)
{
    public int Attempts { get; } = attempts;
}

/// <summary>The teacher refused the request for a reason retrying cannot fix (bad key, unknown model, bad parameter).</summary>
public sealed class TeacherRejectedException(string message, int statusCode) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>The teacher's address is one the outbound policy refuses (<see cref="OutboundAddressPolicy"/>); retrying cannot fix it.</summary>
public sealed class TeacherAddressRefusedException(string message) : IOException(message);
