namespace Alpaca.Generator.Api.Runs;

/// <summary>A teacher the caller may not use (a custom base_url without admin or the operator's leave, a refused address): PERMISSION_DENIED.</summary>
public sealed class TeacherPermissionException(string message) : Exception(message);
