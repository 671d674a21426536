from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from accounts import roles

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Admins create keys here (the key is shown once, in the message after saving) and revoke them."""

    list_display = ("name", "kind", "user", "vendor", "prefix", "state_display", "expires_at", "last_used_at")
    list_filter = ("kind",)
    list_select_related = ("user", "vendor")
    search_fields = ("name", "prefix", "user__username", "vendor__name")
    autocomplete_fields = ("user", "vendor")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "kind", "user", "vendor", "expires_at")
        return (
            "name",
            "kind",
            "user",
            "vendor",
            "prefix",
            "expires_at",
            "created_at",
            "created_by",
            "last_used_at",
            "revoked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*self.readonly_fields, "kind", "user", "vendor")

    @admin.display(description="state")
    def state_display(self, key):
        state = key.state()
        return format_html('<span class="{}">{}</span>', "text-success" if state == "active" else "text-muted", state)

    def save_model(self, request, obj, form, change):
        raw = None
        if not change:
            raw = obj.set_new_key()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if raw:
            messages.warning(
                request,
                format_html('The new key, shown this once — copy it now: <code class="api-key">{}</code>', raw),
            )

    @admin.action(description="Revoke the selected keys")
    def revoke_keys(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key{'s' if count != 1 else ''}.")

    # Keys act for people and vendors: only admins (the policy's admin role) manage them.
    def has_module_permission(self, request):
        return roles.is_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_add_permission(self, request):
        return roles.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return roles.is_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.is_admin(request.user)
