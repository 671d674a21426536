"""Who is who in DESIGN.md's roles: admin (superuser or group “SLA admins”), manager (group “Managers”),
viewer (group “Viewers”). What each role may do is decided in one place, ``access/rules.py``."""

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


def is_viewer(user):
    return user.is_authenticated and user.is_active and VIEWERS_GROUP in _group_names(user)


def role_name(user):
    if is_admin(user):
        return "admin"
    if is_manager(user):
        return "manager"
    return "viewer"
