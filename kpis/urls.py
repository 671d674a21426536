from django.urls import path

from . import views

app_name = "kpis"

urlpatterns = [
    path("", views.BreachListView.as_view(), name="breach_list"),
    path("<int:pk>/", views.BreachDetailView.as_view(), name="breach_detail"),
    path("<int:pk>/edit/", views.BreachEditView.as_view(), name="breach_edit"),
]
