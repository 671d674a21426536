from django.contrib import admin
from django.urls import include, path

from api.account_views import PersonalKeysView
from common.views import favicon
from health.views import health

urlpatterns = [
    # Reports live under the admin site's URL space but are plain views guarded for admins.
    path("favicon.ico", favicon, name="favicon"),
    path("admin/reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("accounts/keys/", PersonalKeysView.as_view(), name="api_keys"),
    path("accounts/alerts/", include("outbound.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("health/", health, name="health"),
    path("api/", include("api.urls")),
    path("", include("governance.urls")),  # /actions/, /contracts/<id>/raci/, /vendors/<id>/qbr/ …
    path("vendors/", include("vendors.urls")),
    path("contracts/", include("contracts.urls")),
    path("staff/", include("contracts.staff_urls")),
    path("breaches/", include("kpis.urls")),
    path("", include("dashboard.urls")),
]

# Under /api/ a missing page or a server error answers JSON (api.errors); elsewhere Django's pages.
handler404 = "api.errors.page_not_found"
handler500 = "api.errors.server_error"
