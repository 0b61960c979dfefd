using Microsoft.AspNetCore.Authorization;

namespace Alpaca.ServiceDefaults.Auth;

/// <summary>The caller holds <see cref="Scope"/> (or admin, which includes every scope).</summary>
public sealed class ScopeRequirement(ApiScope scope) : AuthorizationHandler<ScopeRequirement>, IAuthorizationRequirement
{
    public ApiScope Scope { get; } = scope;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.User.HasClaim(ApiScopes.ClaimType, requirement.Scope.Name()) || context.User.HasClaim(ApiScopes.ClaimType, ApiScope.Admin.Name()))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
