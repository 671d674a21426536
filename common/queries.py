"""Query expressions shared by every app's QuerySets, admin and reports."""

from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def subquery_count(queryset, outer_path):
    """COUNT(*) of ``queryset`` rows whose ``outer_path`` is the outer row's pk, as a correlated subquery
    (0 when none): several counts on one query never multiply each other, as joins would."""
    inner = (
        queryset.filter(**{outer_path: OuterRef("pk")})
        .order_by()
        .values(outer_path)
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(inner, output_field=models.IntegerField()), 0)
