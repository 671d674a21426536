"""The roles of DESIGN.md: admin (superuser or group “SLA admins”), manager (group “Managers”), viewer."""

ADMINS_GROUP = "SLA admins"
MANAGERS_GROUP = "Managers"
VIEWERS_GROUP = "Viewers"


def _group_names(user):
    cached = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._role_group_names = cached
    return cached


def is_admin(user):
    return user.is_authenticated and user.is_active and (user.is_superuser or ADMINS_GROUP in _group_names(user))


def is_manager(user):
    return user.is_authenticated and user.is_active and MANAGERS_GROUP in _group_names(user)


def can_create_contracts(user):
    return is_admin(user) or is_manager(user)


def can_edit_contract(user, contract):
    """Admins edit everything; a manager edits only contracts they own and what hangs off them."""
    if is_admin(user):
        return True
    return is_manager(user) and contract is not None and contract.owner_id == user.pk


def can_edit_vendors(user):
    return is_admin(user) or is_manager(user)


def role_name(user):
    if is_admin(user):
        return "admin"
    if is_manager(user):
        return "manager"
    return "viewer"
