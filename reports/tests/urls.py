"""A URLconf with only the admin and the reports, so these tests do not depend on the other apps' pages."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
]
