from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

app_name = "reports"

# login_not_required: the views send anonymous users to the *admin* login themselves.
urlpatterns = [
    path("", login_not_required(views.ReportIndexView.as_view()), name="index"),
    path("scorecard/", login_not_required(views.ScorecardView.as_view()), name="scorecard"),
    path("compliance-trend/", login_not_required(views.ComplianceTrendView.as_view()), name="compliance_trend"),
    path("service-credits/", login_not_required(views.ServiceCreditsView.as_view()), name="service_credits"),
    path("attrition/", login_not_required(views.AttritionView.as_view()), name="attrition"),
    path("sourcing-mix/", login_not_required(views.SourcingMixView.as_view()), name="sourcing_mix"),
    path("renewals/", login_not_required(views.RenewalsView.as_view()), name="renewals"),
]
