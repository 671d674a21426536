from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("", views.ContractListView.as_view(), name="contract_list"),
    path("add/", views.ContractEditView.as_view(), name="contract_add"),
    path("import/", views.MeasurementImportView.as_view(), name="measurement_import"),
    path("lookup/", views.ContractLookupView.as_view(), name="contract_lookup"),
    path("owners/lookup/", views.OwnerLookupView.as_view(), name="owner_lookup"),
    path("<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    path("<int:pk>/edit/", views.ContractEditView.as_view(), name="contract_edit"),
    path("<int:contract_pk>/kpis/", views.KPIEntryView.as_view(), name="kpi_entry"),
    path("<int:contract_pk>/slas/add/", views.SLAEditView.as_view(), name="sla_add"),
    path("<int:contract_pk>/slas/<int:pk>/edit/", views.SLAEditView.as_view(), name="sla_edit"),
    path("slas/<int:pk>/", views.SLADetailView.as_view(), name="sla_detail"),
]
