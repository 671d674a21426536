from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AuthenticationForm

from .models import Profile
from .roles import is_admin

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("receives_all_vendors_digest",)
    verbose_name_plural = "digest preferences"


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [ProfileInline]
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_superuser",
        "is_active",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "profile__receives_all_vendors_digest")
    list_select_related = ("profile",)


def admin_site_permission(request):
    """DESIGN: the admin role (superuser or group “SLA admins”) uses the admin site even without is_staff."""
    user = request.user
    return user.is_active and (user.is_staff or is_admin(user))


admin.site.has_permission = admin_site_permission
# The stock admin login form turns away non-staff users; let anyone sign in and has_permission decide.
admin.site.login_form = AuthenticationForm
admin.site.site_header = "SLA tracker administration"
admin.site.site_title = "SLA tracker admin"
admin.site.index_title = "Vendors, contracts, SLAs and reports"
