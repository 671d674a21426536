from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("actions/", views.ActionListView.as_view(), name="action_list"),
    path("actions/add/", views.ActionEditView.as_view(), name="action_add"),
    path("actions/<int:pk>/", views.ActionDetailView.as_view(), name="action_detail"),
    path("actions/<int:pk>/edit/", views.ActionEditView.as_view(), name="action_edit"),
    path("actions/<int:pk>/status/", views.ActionStatusView.as_view(), name="action_status"),
    path("contracts/<int:contract_pk>/raci/", views.RaciView.as_view(), name="raci"),
    path("contracts/<int:contract_pk>/staff-figures/", views.StaffFiguresView.as_view(), name="staff_figures"),
    path(
        "contracts/<int:contract_pk>/staff-figures/import/",
        views.StaffFigureImportView.as_view(),
        name="staff_figure_import",
    ),
    path("vendors/<int:pk>/qbr/", views.QBRView.as_view(), name="qbr"),
    path("vendors/<int:pk>/qbr/pdf/", views.QBRView.as_view(pdf=True), name="qbr_pdf"),
]
