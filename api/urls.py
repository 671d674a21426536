from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from . import action_views, errors, views

app_name = "api"

router = SimpleRouter()
router.register("vendors", views.VendorViewSet, basename="vendor")
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("slas", views.SLAViewSet, basename="sla")
router.register("measurements", views.MeasurementViewSet, basename="measurement")
router.register("breaches", views.BreachViewSet, basename="breach")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("obligations", views.ObligationViewSet, basename="obligation")
router.register("actions", action_views.CorrectiveActionViewSet, basename="action")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.SwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", errors.api_not_found),  # last: nothing under /api/ answers an HTML page
]
