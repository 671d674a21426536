"""``/api/v1/``: read endpoints (filtered with the web lists' filtersets, cursor-paginated, a fixed number
of queries per page) and the writes DESIGN.md allows: the bulk figure push, breach status and notes,
staff joiners and leavers. Who may do what is decided in ``api.permissions`` only."""

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from contracts.filtersets import ContractFilterSet, StaffMemberFilterSet
from contracts.forms import DepartureForm
from contracts.models import Contract, ReplacementObligation, StaffMember
from contracts.replacements import ensure_obligation
from kpis import imports, pending
from kpis.choices import BreachStatus, MeasurementSource
from kpis.forms import WITHDRAWN_HELP, BreachEditForm
from kpis.models import SLA, Breach, Measurement
from vendors.filtersets import VendorFilterSet
from vendors.models import Vendor

from . import permissions, serializers
from .errors import BulkValidationError
from .filtersets import ApiBreachFilterSet, MeasurementFilterSet, ObligationFilterSet, SLAFilterSet

MAX_FIGURES = 10_000
FIGURE_FIELDS = ("contract", "kpi", "period_start", "value", "note")
REQUIRED_FIGURE_FIELDS = FIGURE_FIELDS[:4]


class ApiViewMixin:
    """Every API view: bearer keys (not the web's login redirect), the role/vendor permission."""

    permission_classes = [permissions.ReadOrRoleWrite]
    vendor_path = None  # lookup from the queryset's model to the vendor id, for vendor keys' scope

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))

    def perform_authentication(self, request):
        super().perform_authentication(request)
        if permissions.is_vendor_key(request.user):
            # Django's request (what the history middleware reads) gets no user: a vendor key is nobody.
            request._request.user = AnonymousUser()

    def scoped(self, queryset):
        return permissions.scope(self.request.user, queryset, self.vendor_path)

    def get_queryset(self):
        return self.scoped(super().get_queryset())

    def history_attrs(self, instance):
        """Who to name in ``instance``'s history: the key's user, or (vendor key) nobody and the key."""
        user = self.request.user
        if permissions.is_vendor_key(user):
            instance._history_user = None
            instance._change_reason = f"API: {user.get_full_name()}"
        else:
            instance._history_user = user
            instance._change_reason = "API"


class ReadOnlyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    pass


class VendorViewSet(ReadOnlyViewSet):
    """Vendors (a vendor key sees its own only)."""

    queryset = Vendor.objects.prefetch_related("certifications")
    serializer_class = serializers.VendorSerializer
    filterset_class = VendorFilterSet
    vendor_path = "pk"


class ContractViewSet(ReadOnlyViewSet):
    queryset = Contract.objects.all()
    serializer_class = serializers.ContractSerializer
    filterset_class = ContractFilterSet
    vendor_path = "vendor_id"


class SLAViewSet(ReadOnlyViewSet):
    queryset = SLA.objects.select_related("contract", "kpi")
    serializer_class = serializers.SLASerializer
    filterset_class = SLAFilterSet
    vendor_path = "contract__vendor_id"


class ObligationViewSet(ReadOnlyViewSet):
    queryset = ReplacementObligation.objects.select_related("departed__contract")
    serializer_class = serializers.ObligationSerializer
    filterset_class = ObligationFilterSet
    vendor_path = "departed__contract__vendor_id"


@extend_schema_view(
    create=extend_schema(
        summary="Push KPI figures (all or nothing, idempotent)",
        description=(
            f"A JSON list of up to {MAX_FIGURES:,} figures. Each is checked as the KPI entry form and the import "
            "check it (the SLA's own period, in force, ended; a finite value with at most 2 decimals). Any bad "
            "item: 400 with `errors` keyed by item index (from 0), nothing written. A figure for a contract the "
            "key may not write (another vendor's; not the manager's own): 403 for the whole request, nothing "
            "written. The same figures again change nothing. Breach checks are queued for what changed."
        ),
        request=serializers.FigureSerializer(many=True),
        responses={
            200: serializers.PushResultSerializer,
            400: OpenApiResponse(description="Bad items: `errors` by item index; nothing written."),
            403: OpenApiResponse(description="A figure for a contract this key may not write; nothing written."),
        },
    )
)
class MeasurementViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """KPI figures: read, and pushed in bulk."""

    queryset = Measurement.objects.select_related("sla__contract", "sla__kpi")
    serializer_class = serializers.MeasurementSerializer
    filterset_class = MeasurementFilterSet
    vendor_path = "sla__contract__vendor_id"

    def create(self, request, *args, **kwargs):
        figures = self._figure_rows(request.data)
        user = request.user
        checked = imports.check_figures(
            figures, lambda contract: permissions.may_record_figures(user, contract), refer_to="item"
        )
        if checked.forbidden:
            shown = ", ".join(str(i) for i in checked.forbidden[:20])
            more = " …" if len(checked.forbidden) > 20 else ""
            raise PermissionDenied(
                f"This key may not record figures for the contract of item(s) {shown}{more}; nothing was written."
            )
        if checked.errors:
            raise BulkValidationError(
                {str(error.line): [error.message] for error in checked.errors},
                f"{len(checked.errors):,} of {len(figures):,} figures cannot be recorded; nothing was written.",
            )
        vendor_key = permissions.is_vendor_key(user)
        with transaction.atomic():
            result = imports.write_figures(
                checked.parsed,
                user=None if vendor_key else user,
                source=MeasurementSource.API,
                change_reason=f"API: {user.get_full_name()}" if vendor_key else "API",
            )
            pending.request_figure_check(result.figures)
        return Response(
            {"created": result.created, "corrected": result.updated, "unchanged": result.unchanged},
            status=status.HTTP_200_OK,
        )

    @staticmethod
    def _figure_rows(data):
        if not isinstance(data, list):
            raise ValidationError({"non_field_errors": ["Send a JSON list of figures."]})
        if not data:
            raise ValidationError({"non_field_errors": ["The list is empty."]})
        if len(data) > MAX_FIGURES:
            raise ValidationError({"non_field_errors": [f"At most {MAX_FIGURES:,} figures per request."]})
        rows, errors = [], {}
        for index, item in enumerate(data):
            if not isinstance(item, dict):
                errors[str(index)] = ["Each figure is an object with contract, kpi, period_start and value."]
                continue
            problems = [f"“{name}” is missing." for name in REQUIRED_FIGURE_FIELDS if name not in item]
            problems += [f"“{name}” is not a field of a figure." for name in item if name not in FIGURE_FIELDS]
            for name in FIGURE_FIELDS:
                value = item.get(name)
                if name in item and not (isinstance(value, str) or (name == "value" and _is_number(value))):
                    problems.append(f"“{name}” must be a string" + (" or a number." if name == "value" else "."))
            if problems:
                errors[str(index)] = problems
                continue
            value = item["value"]
            rows.append(
                imports.FigureRow(
                    index,
                    item["contract"],
                    item["kpi"],
                    item["period_start"],
                    str(value) if isinstance(value, float) else value,
                    item.get("note"),
                )
            )
        if errors:
            raise BulkValidationError(errors, f"{len(errors):,} of {len(data):,} items are not figures.")
        return rows


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


class BreachViewSet(ApiViewMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Breaches. The engine owns the facts; people own ``status`` and ``notes`` (PATCH)."""

    queryset = Breach.objects.select_related("contract", "sla__kpi")
    serializer_class = serializers.BreachSerializer
    filterset_class = ApiBreachFilterSet
    vendor_path = "contract__vendor_id"
    http_method_names = ["get", "patch", "head", "options"]

    def partial_update(self, request, *args, **kwargs):
        breach = self.get_object()
        if not permissions.may_change_breach(request.user, breach):
            raise PermissionDenied("This key may not change this breach.")
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise ValidationError({"non_field_errors": ["Send a JSON object."]})
        unknown = sorted(set(data) - {"status", "notes", "reason"})
        if unknown:
            raise ValidationError({name: ["Only status, notes and reason can be changed."] for name in unknown})
        if breach.status == BreachStatus.WITHDRAWN and data.get("status", breach.status) != breach.status:
            raise ValidationError({"status": [WITHDRAWN_HELP]})
        form_data = {"status": data.get("status", breach.status), "reason": data.get("reason") or ""}
        if "notes" in data:
            form_data["notes"] = data["notes"] if data["notes"] is not None else ""
        form = BreachEditForm(data=form_data, instance=breach, user=request.user)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        self.history_attrs(breach)
        form.save()
        return Response(self.get_serializer(breach).data)


class StaffViewSet(ApiViewMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A contract's roster: joiners (POST) and leavers (PATCH ``left_on`` and ``leave_reason``; a departure
    opens its replacement obligation, as in the web app)."""

    queryset = StaffMember.objects.select_related("contract", "replacement_obligation")
    serializer_class = serializers.StaffMemberSerializer
    filterset_class = StaffMemberFilterSet
    vendor_path = "contract__vendor_id"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action == "partial_update":
            return serializers.DepartureSerializer
        return super().get_serializer_class()

    def create(self, request, *args, **kwargs):
        serializer = serializers.StaffMemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contract = serializer.validated_data["contract"]
        if not permissions.may_add_staff(request.user, contract):
            raise PermissionDenied(f"This key may not change the roster of contract {contract.reference}.")
        member = StaffMember(**serializer.validated_data)
        _full_clean(member)
        self.history_attrs(member)
        member.save()
        ensure_obligation(member)
        member = self.get_queryset().get(pk=member.pk)
        return Response(serializers.StaffMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        member = self.get_object()
        if not permissions.may_change_staff(request.user, member):
            raise PermissionDenied("This key may not change this staff member.")
        serializer = serializers.DepartureSerializer(member, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        form_data = {
            "left_on": serializer.validated_data.get("left_on", member.left_on),
            "leave_reason": serializer.validated_data.get("leave_reason", member.leave_reason),
        }
        form = DepartureForm(data=form_data, instance=member, user=request.user)
        if not form.is_valid():
            raise ValidationError(_form_errors(form))
        self.history_attrs(member)
        member = form.save()
        ensure_obligation(member)
        member = self.get_queryset().get(pk=member.pk)
        return Response(serializers.StaffMemberSerializer(member).data)


def _form_errors(form):
    return {name: [error["message"] for error in errors] for name, errors in form.errors.get_json_data().items()}


def _full_clean(instance):
    try:
        instance.full_clean()
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict)


class SchemaView(SpectacularAPIView):
    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's static files; its set-up script from a URL, not inline (CSP)."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))
