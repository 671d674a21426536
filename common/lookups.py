"""Type-ahead lookups for foreign-key filters over big tables (thousands of contracts or vendors).

``LookupSelect`` renders only the chosen option, so a filter form costs one small query instead of
rendering every row as an ``<option>``; ``static/js/lookup.js`` turns it into a Tom Select (vendored in
``static/vendor/tom-select``) that loads matching rows from ``LookupView`` as the user types. Without
JavaScript the select still submits the chosen row and the free-text search still works.
"""

from django import forms
from django.db.models import Q
from django.http import JsonResponse
from django.urls import reverse
from django.views import View

LOOKUP_LIMIT = 20


def chosen_rows(queryset, values):
    """The rows of ``queryset`` whose id is among ``values`` (query-string values: anything that is
    not an id, ``?vendor=x``, is ignored instead of failing the query). No query when none is chosen."""
    ids = [value for value in values if str(value).isdigit()]
    return list(queryset.filter(pk__in=ids)) if ids else []


class LookupSelect(forms.Select):
    def __init__(self, lookup_url_name, attrs=None):
        super().__init__(attrs)
        self.lookup_url_name = lookup_url_name

    def get_context(self, name, value, attrs):
        attrs = {**(attrs or {}), "data-lookup-url": reverse(self.lookup_url_name)}
        return super().get_context(name, value, attrs)

    def optgroups(self, name, value, attrs=None):
        field = self.choices.field
        options = [("", field.empty_label or "---------")]
        options += [(str(obj.pk), field.label_from_instance(obj)) for obj in chosen_rows(field.queryset, value)]
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
