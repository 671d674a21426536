"""``{% has_perm "kpis.add_measurement" contract as can_enter %}``: the access policy asked about an
object in a template (Django's ``perms`` answers only model-wide questions). No query when the object
carries what the rule reads (a contract's owner id, the user's groups cached for the request)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def has_perm(context, perm, obj=None):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return bool(user is not None and user.has_perm(perm, obj))
