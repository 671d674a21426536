"""Base FilterSet: a ``q`` free-text search and Bootstrap classes on the filter form."""

import django_filters
from django import forms
from django.db.models import Q

from common.lookups import LookupSelect


class BaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    search_fields = ()

    def search(self, queryset, name, value):
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_styled", False):
            for field in form.fields.values():
                widget = field.widget
                if isinstance(widget, forms.CheckboxInput):
                    css = "form-check-input"
                elif isinstance(widget, forms.SelectMultiple):
                    css = "form-select form-select-sm"
                    widget.attrs["size"] = min(4, max(2, len(getattr(field, "choices", []))))
                elif isinstance(widget, forms.Select):
                    css = "form-select form-select-sm"
                else:
                    css = "form-control form-control-sm"
                widget.attrs["class"] = css
            form._styled = True
        return form


def lookup_filter(queryset, lookup_url_name, **kwargs):
    """A foreign-key filter drawn as a type-ahead ``LookupSelect`` fed by the ``LookupView`` at
    ``lookup_url_name`` (give both the same queryset)."""
    return django_filters.ModelChoiceFilter(queryset=queryset, widget=LookupSelect(lookup_url_name), **kwargs)
