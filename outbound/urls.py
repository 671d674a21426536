from django.urls import path

from .views import AlertsView

app_name = "outbound"
urlpatterns = [path("", AlertsView.as_view(), name="alerts")]
