"""Shared base views (NetBox's habit): list / detail / edit machinery written once.

Every page of the web app is one of these with a few attributes (``queryset``,
``filterset_class``, ``table_class``, ``form_class``, ``template_name``). The role check lives
here — :class:`WriteAccessMixin` — and nowhere else: a view that writes declares *what* it writes
(the object, or the model and the parent it is created under) and the mixin answers 403 before
anything is read from the request body or saved. It asks Django's ``user.has_perm(perm, obj)``, which
the access policy (``access/rules.py``, above the domain apps) answers: nothing here knows the roles.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, View
from django.views.generic.detail import SingleObjectTemplateResponseMixin
from django.views.generic.edit import ModelFormMixin
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin as TableExportMixin

from .exports import streamed_csv_response, xlsx_response
from .page_cache import CachedContentMixin
from .pagination import ListPaginator
from .policy import perm_name
from .table_exports import export_csv_lines, export_rows


@login_not_required
@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request):
    """``/favicon.ico`` (asked for by browsers on every page, the admin's too): the icon in ``static/``."""
    path = finders.find("favicon.ico")
    if path is None:
        raise Http404
    return FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115 (closed by the response)


class ParentMixin:
    """Views nested under a parent object (``/contracts/<contract_pk>/slas/add/``)."""

    parent_model = None
    parent_kwarg = None

    def get_parent(self):
        if self.parent_model is None or self.parent_kwarg not in self.kwargs:
            return None
        return get_object_or_404(self.parent_model, pk=self.kwargs[self.parent_kwarg])


class WriteAccessMixin(ParentMixin):
    """403 unless the user may write what this view writes. The only role check of the web app."""

    def get_permission_object(self):
        """The existing object being changed, or None when creating."""
        return getattr(self, "object", None)

    def check_write_access(self):
        user = self.request.user
        obj = self.get_permission_object()
        if obj is not None:
            allowed = user.has_perm(perm_name(type(obj), "change"), obj)
        else:
            # Created under a parent (a contract, a vendor) when the URL names one; else the form limits
            # its choice of parent to what the user may change (``restrict``).
            allowed = user.has_perm(perm_name(self.model, "add"), self.parent)
        if not allowed:
            raise PermissionDenied("You may not change this.")


class ObjectListView(CachedContentMixin, TableExportMixin, SingleTableMixin, FilterView):
    """A sortable, paginated django-tables2 table over a django-filter filterset, with exports.

    ``?_export=csv`` streams the filtered, sorted rows; ``?_export=xlsx`` writes the same columns into a typed
    workbook. Both read the table's export columns as ``values_list`` rows (``common.table_exports``: what
    ``as_values()`` gives, without a model instance per row) and write them through ``common.exports``: text
    made safe, numbers and dates typed.
    """

    template_name = "common/object_list.html"
    per_page = 25
    # Above this many rows the list says "about N" / "more than N" instead of counting them all
    # (``common.pagination``); None: always an exact count.
    count_cap = None
    export_formats = ("csv", "xlsx")
    export_chunk_size = 2000
    add_url_name = None
    title = None
    filterset_template = "common/filter_form.html"

    def get_export_filename(self, export_format):
        return f"{self.export_name}.{export_format}"

    @property
    def export_name(self):
        return self.model._meta.verbose_name_plural.replace(" ", "-")

    def get_title(self):
        return self.title or self.model._meta.verbose_name_plural.capitalize()

    def content_cache_parts(self):
        return None if self.export_trigger_param in self.request.GET else ()

    def cached_page_context(self):
        self.object_list = self.get_queryset().none()  # its model names the template (``<app>/<model>_list.html``)
        return {"title": self.get_title()}

    def get_add_url(self):
        from django.urls import reverse

        if self.add_url_name and self.request.user.has_perm(perm_name(self.model, "add")):
            return reverse(self.add_url_name)
        return None

    def get_table_pagination(self, table):
        # Only the table paginates: ListView's own ``paginate_by`` would count the rows a second time.
        return {"per_page": self.per_page, "paginator_class": ListPaginator, "cap": self.count_cap}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        params.pop(self.export_trigger_param, None)
        context.update(
            title=self.get_title(),
            add_url=self.get_add_url(),
            export_formats=self.export_formats,
            export_query=params.urlencode(),
            filter_active=any(v for k, v in self.request.GET.items() if k not in ("page", "sort", "per_page")),
        )
        return context

    def create_export(self, export_format):
        filename = self.get_export_filename(export_format)
        if export_format == "csv":
            table = self.export_table()
            lines = export_csv_lines(table, table.data.data, self.exclude_columns, self.export_chunk_size)
            return streamed_csv_response(lines, filename)
        return xlsx_response(self.export_rows(), filename, title=self.get_title())

    def export_table(self):
        """The table, sorted as requested (the way RequestConfig would), not paginated."""
        table = self.get_table_class()(data=self.get_table_data(), **self.get_table_kwargs())
        order_by = self.request.GET.get(table.prefixed_order_by_field)
        if order_by:
            table.order_by = order_by
        return table

    def export_rows(self):
        """The header and the table's export values (typed: dates, numbers, None), read as ``values_list``
        rows over a server-side cursor (``common.table_exports``): never all in memory (the XLSX writer spools
        them to a file; the CSV, ``export_csv_lines``, streams the same cells)."""
        table = self.export_table()
        return export_rows(table, table.data.data, self.exclude_columns, self.export_chunk_size)


class ObjectDetailView(DetailView):
    """A read page. ``can_edit`` tells the template whether to show edit controls."""

    context_object_name = "object"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = self.request.user.has_perm(perm_name(type(self.object), "change"), self.object)
        return context


class ObjectEditView(WriteAccessMixin, SingleObjectTemplateResponseMixin, ModelFormMixin, View):
    """Create (no ``pk`` in the URL) or edit (``pk``) one object through a ModelForm.

    The role check runs in ``dispatch`` before the form is bound; a refused write is a 403
    and nothing is saved. Forms may accept ``user`` (to limit choices) — it is passed when
    the form's ``__init__`` takes it.
    """

    template_name = "common/object_edit.html"
    success_message = "Saved."

    def dispatch(self, request, *args, **kwargs):
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model.")
        self.parent = self.get_parent()
        self.object = self.get_object() if self.pk_url_kwarg in kwargs else None
        self.check_write_access()
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.queryset if self.queryset is not None else self.model._default_manager.all()

    def new_instance(self):
        """The unsaved instance a create form fills in; set the parent here."""
        return self.model()

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if kwargs.get("instance") is None:
            kwargs["instance"] = self.new_instance()
        form_class = self.get_form_class()
        if getattr(form_class, "accepts_user", False):
            kwargs["user"] = self.request.user
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            parent=self.parent,
            is_new=self.object is None,
            model_name=self.model._meta.verbose_name,
            cancel_url=self.get_cancel_url(),
            list_url=self.get_list_url(),
            list_title=self.model._meta.verbose_name_plural.capitalize(),
        )
        return context

    def get_list_url(self):
        """``<app>:<model>_list`` when it exists (breadcrumbs)."""
        from django.urls import NoReverseMatch, reverse

        namespace = self.request.resolver_match.namespace if self.request.resolver_match else ""
        try:
            return reverse(f"{namespace}:{self.model._meta.model_name}_list") if namespace else None
        except NoReverseMatch:
            return None

    def get_cancel_url(self):
        if self.object is not None and hasattr(self.object, "get_absolute_url"):
            return self.object.get_absolute_url()
        if self.parent is not None and hasattr(self.parent, "get_absolute_url"):
            return self.parent.get_absolute_url()
        return "/"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        if form.is_valid():
            return self.form_valid(form)
        return self.form_invalid(form)

    def form_valid(self, form):
        self.object = self.save_form(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return redirect(self.get_success_url())

    def save_form(self, form):
        return form.save()

    def get_success_url(self):
        if self.success_url:
            return self.success_url
        return self.object.get_absolute_url()


class WriteFormView(WriteAccessMixin, View):
    """A write page that is not one ModelForm (bulk KPI entry, import): same role check, own handling."""

    model = None

    def dispatch(self, request, *args, **kwargs):
        self.parent = self.get_parent()
        self.object = None
        self.check_write_access()
        return super().dispatch(request, *args, **kwargs)
