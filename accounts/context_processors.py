from . import roles as role_rules


def roles(request):
    """Expose the user's role to templates so pages hide controls the user may not use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_role": role_rules.role_name(user),
        "user_is_admin": role_rules.is_admin(user),
        "user_can_write": user.has_perm("contracts.add_contract"),
    }
