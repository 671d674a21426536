"""Type-ahead lookups for foreign-key filters over big tables (thousands of contracts or vendors).

``LookupSelect`` renders only the chosen option, so a filter form costs one small query instead of
rendering every row as an ``<option>``; ``static/js/lookup.js`` adds a search box that fills the
select from ``LookupView`` as the user types. Without JavaScript the free-text search still works.
"""

from django import forms
from django.db.models import Q
from django.http import JsonResponse
from django.urls import reverse
from django.views import View

LOOKUP_LIMIT = 20


class LookupSelect(forms.Select):
    def __init__(self, lookup_url_name, attrs=None):
        super().__init__(attrs)
        self.lookup_url_name = lookup_url_name

    def get_context(self, name, value, attrs):
        attrs = {**(attrs or {}), "data-lookup-url": reverse(self.lookup_url_name)}
        return super().get_context(name, value, attrs)

    def optgroups(self, name, value, attrs=None):
        chosen = [v for v in value if v not in (None, "")]
        field = self.choices.field
        options = [("", field.empty_label or "---------")]
        if chosen:
            options += [(str(obj.pk), field.label_from_instance(obj)) for obj in field.queryset.filter(pk__in=chosen)]
        return [
            (None, [self.create_option(name, key, label, key in value, index, attrs=attrs)], index)
            for index, (key, label) in enumerate(options)
        ]


class LookupView(View):
    """``?q=text`` → ``{"results": [{"id": 7, "text": "CX-2026-014 — …"}]}``, at most 20, for any
    signed-in user (it reveals no more than the list pages do)."""

    queryset = None
    search_fields = ()

    def get(self, request):
        text = request.GET.get("q", "").strip()
        rows = self.queryset.all()
        if text:
            condition = Q()
            for field in self.search_fields:
                condition |= Q(**{f"{field}__icontains": text})
            rows = rows.filter(condition)
        return JsonResponse({"results": [{"id": obj.pk, "text": str(obj)} for obj in rows[:LOOKUP_LIMIT]]})
