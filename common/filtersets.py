"""Base FilterSet: a ``q`` free-text search and Bootstrap classes on the filter form.

Controls are chosen for the size of the choice set, once, here: a multiple choice over a few values
(status, severity, kind) is a row of checkboxes; over many values a searchable multi-select (Tom Select,
``data-searchable``); a single choice over many values (countries) is searchable too. A yes/no filter is
a checkbox (:func:`yes_no_filter`), never a three-way "Unknown / Yes / No" select.
"""

import django_filters
from django import forms
from django.db.models import Q

from common.lookups import LookupSelect

CHECKBOX_CHOICES_MAX = 6  # a multiple choice with more values than this becomes a searchable multi-select
SEARCHABLE_CHOICES_MIN = 20  # a single choice with at least this many values gets a search box


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
                style_filter_field(field)
            form._styled = True
        return form


def style_filter_field(field):
    """Pick the control for a filter form field and give it Bootstrap's classes."""
    widget = field.widget
    if isinstance(widget, LookupSelect):
        widget.attrs["class"] = "form-select form-select-sm"
        return
    choices = list(getattr(field, "choices", []))
    if isinstance(widget, forms.SelectMultiple) and not isinstance(widget, forms.CheckboxSelectMultiple):
        if len(choices) <= CHECKBOX_CHOICES_MAX:
            field.widget = widget = forms.CheckboxSelectMultiple(choices=field.choices)
        else:
            widget.attrs["data-searchable"] = "1"
    if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select form-select-sm"
        if not isinstance(widget, forms.SelectMultiple) and len(choices) >= SEARCHABLE_CHOICES_MIN:
            widget.attrs["data-searchable"] = "1"
    else:
        css = "form-control form-control-sm"
    widget.attrs["class"] = css


def lookup_filter(queryset, lookup_url_name, **kwargs):
    """A foreign-key filter drawn as a type-ahead ``LookupSelect`` fed by the ``LookupView`` at
    ``lookup_url_name`` (give both the same queryset)."""
    return django_filters.ModelChoiceFilter(queryset=queryset, widget=LookupSelect(lookup_url_name), **kwargs)


def yes_no_filter(method, label):
    """A filter that is on or off: a checkbox (``?name=on`` or ``=true``), absent or unticked = no filter."""
    return django_filters.BooleanFilter(method=method, label=label, widget=forms.CheckboxInput)
