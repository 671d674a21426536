from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.StaffListView.as_view(), name="staff_list"),
    path("add/", views.StaffEditView.as_view(), name="staff_add"),
    path("<int:pk>/", views.StaffDetailView.as_view(), name="staff_detail"),
    path("<int:pk>/edit/", views.StaffEditView.as_view(), name="staff_edit"),
    path("<int:pk>/departure/", views.DepartureView.as_view(), name="staff_departure"),
    path("<int:pk>/replacement/", views.ObligationEditView.as_view(), name="obligation_edit"),
]
