from django.urls import path

from . import views

app_name = "vendors"

urlpatterns = [
    path("", views.VendorListView.as_view(), name="vendor_list"),
    path("add/", views.VendorEditView.as_view(), name="vendor_add"),
    path("lookup/", views.VendorLookupView.as_view(), name="vendor_lookup"),
    path("<int:pk>/", views.VendorDetailView.as_view(), name="vendor_detail"),
    path("<int:pk>/edit/", views.VendorEditView.as_view(), name="vendor_edit"),
    path("<int:vendor_pk>/centres/add/", views.DeliveryCenterEditView.as_view(), name="center_add"),
    path("<int:vendor_pk>/centres/<int:pk>/edit/", views.DeliveryCenterEditView.as_view(), name="center_edit"),
]
