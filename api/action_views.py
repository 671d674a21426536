"""``/api/v1/actions/``: corrective actions, read (the web list's filters, cursor pages, a fixed number of
queries per page) and updated (PATCH) through the workflow the action page uses (``governance.actions``).

A vendor key reads its vendor's actions and updates those it owns (owner side vendor): progress notes and
the status up to done, never verified or cancelled. A personal key follows the web policy: the contract's
owner (or an admin) edits the action as its form does and moves it through the workflow."""

from django.db.models import Prefetch
from django.forms.models import model_to_dict
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from governance import actions
from governance.choices import ActionStatus, OwnerSide
from governance.filtersets import CorrectiveActionFilterSet
from governance.forms import CorrectiveActionForm
from governance.models import CorrectiveAction
from kpis.models import Breach

from . import permissions
from .views import ApiViewMixin

VENDOR_FIELDS = ("status", "progress_notes")
PERSON_FIELDS = (*VENDOR_FIELDS, *CorrectiveActionForm.EDITABLE_FIELDS, "breaches")


class ActionSerializer(serializers.ModelSerializer):
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)
    vendor = serializers.IntegerField(source="contract.vendor_id", read_only=True)
    breaches = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    opened_by = serializers.SerializerMethodField()
    done_by = serializers.CharField(source="done_by_name", read_only=True, help_text="A person, or the vendor's key.")
    verified_by = serializers.SerializerMethodField()
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    ineffective = serializers.BooleanField(
        read_only=True, help_text="Verified, yet its SLA was breached again within three periods."
    )

    class Meta:
        model = CorrectiveAction
        fields = [
            "id",
            "contract",
            "contract_reference",
            "vendor",
            "breaches",
            "title",
            "root_cause",
            "action",
            "owner_side",
            "owner_name",
            "due_on",
            "status",
            "progress_notes",
            "overdue",
            "ineffective",
            "opened_by",
            "opened_on",
            "done_by",
            "done_on",
            "verified_by",
            "verified_on",
            "watch_until",
            "closed_on",
            "updated_at",
        ]
        read_only_fields = fields

    def get_opened_by(self, action) -> str:
        return _name(action.opened_by)

    def get_verified_by(self, action) -> str:
        return _name(action.verified_by)


def _name(user):
    return (user.get_full_name() or user.username) if user is not None else ""


class ActionUpdateSerializer(serializers.Serializer):
    """``PATCH /api/v1/actions/<id>/`` (documentation: the body is checked by the action form and
    ``governance.actions.update_action``). A vendor key sends ``status`` and ``progress_notes`` only."""

    status = serializers.ChoiceField(
        choices=ActionStatus.choices,
        required=False,
        help_text="One step of the workflow: open → in_progress → done → verified (by someone other than who "
        "marked it done; never by a vendor key) or cancelled. The same status again is no step.",
    )
    progress_notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    title = serializers.CharField(required=False, max_length=200, help_text="Personal keys only.")
    root_cause = serializers.CharField(required=False, allow_blank=True, help_text="Personal keys only.")
    action = serializers.CharField(required=False, help_text="Personal keys only.")
    owner_side = serializers.ChoiceField(choices=OwnerSide.choices, required=False, help_text="Personal keys only.")
    owner_name = serializers.CharField(required=False, max_length=200, help_text="Personal keys only.")
    due_on = serializers.DateField(required=False, help_text="Personal keys only.")
    breaches = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Breach ids of the action's contract."
    )


class ActionFilterSet(CorrectiveActionFilterSet):
    def filter_mine(self, queryset, name, value):
        if value and self.request is not None and permissions.is_vendor_key(self.request.user):
            return queryset  # a vendor key owns no contract; its rows are already its vendor's
        return super().filter_mine(queryset, name, value)


@extend_schema_view(
    list=extend_schema(summary="Corrective actions (a vendor key: its vendor's)"),
    retrieve=extend_schema(summary="One corrective action"),
    partial_update=extend_schema(
        summary="Update a corrective action: progress notes, a workflow step, (personal keys) its fields",
        request=ActionUpdateSerializer,
        responses={
            200: ActionSerializer,
            400: OpenApiResponse(description="A value or a step the workflow refuses; `errors` by field."),
            403: OpenApiResponse(
                description="This key may not change this action or take this step (a vendor key: the client's "
                "actions, fields other than status and progress_notes, verifying or cancelling; anyone: verifying "
                "what they marked done themselves). Nothing changed."
            ),
        },
    ),
)
class CorrectiveActionViewSet(ApiViewMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Corrective actions on breaches, with their workflow."""

    queryset = (
        CorrectiveAction.objects.for_list()
        .select_related("opened_by")
        .with_effectiveness()
        .prefetch_related(Prefetch("breaches", queryset=Breach.objects.only("pk")))
    )
    serializer_class = ActionSerializer
    filterset_class = ActionFilterSet
    vendor_path = "contract__vendor_id"
    http_method_names = ["get", "patch", "head", "options"]

    def partial_update(self, request, *args, **kwargs):
        action = self.get_object()
        user = request.user
        if not permissions.may_update_action(user, action):
            raise PermissionDenied("This key may not change this corrective action.")
        data = request.data
        if not isinstance(data, dict) or not data:
            raise ValidationError({"non_field_errors": ["Send a JSON object with the fields to change."]})
        unknown = sorted(set(data) - set(PERSON_FIELDS))
        if unknown:
            raise ValidationError({name: ["Not a field that can be changed."] for name in unknown})
        vendor_key = permissions.is_vendor_key(user)
        if vendor_key and set(data) - set(VENDOR_FIELDS):
            raise PermissionDenied("A vendor key changes an action's status and progress_notes only.")
        for name in VENDOR_FIELDS:
            if name in data and not isinstance(data[name], str):
                raise ValidationError({name: ["Give a string."]})
        fields, breaches = self._edits(action, data)
        actor = actions.Actor.vendor_key(user.get_full_name()) if vendor_key else actions.Actor.person(user, "API")
        try:
            actions.update_action(
                action.pk,
                actor,
                status=data.get("status"),
                progress_notes=data.get("progress_notes"),
                fields=fields,
                breaches=breaches,
            )
        except actions.StepForbidden as error:
            raise PermissionDenied(str(error))
        except actions.TransitionError as error:
            raise ValidationError({error.field: [str(error)]})
        return Response(self.get_serializer(self.get_queryset().get(pk=action.pk)).data)

    @staticmethod
    def _edits(action, data):
        """A person's edits of the action's fields and breaches, checked by the action form as on the web:
        ({field: value}, [breaches] or None), or a 400 with the form's errors."""
        edited = [name for name in CorrectiveActionForm.EDITABLE_FIELDS if name in data]
        if not edited and "breaches" not in data:
            return None, None
        form_data = model_to_dict(action, fields=[*CorrectiveActionForm.EDITABLE_FIELDS, "progress_notes"])
        form_data["breaches"] = [b.pk for b in action.breaches.all()]
        form_data.update({name: data[name] for name in (*edited, "breaches") if name in data})
        if not isinstance(form_data["breaches"], list):
            raise ValidationError({"breaches": ["Give a list of breach ids."]})
        form = CorrectiveActionForm(data=form_data, instance=action)
        if not form.is_valid():
            errors = form.errors.get_json_data()
            raise ValidationError({name: [e["message"] for e in errs] for name, errs in errors.items()})
        fields = {name: form.cleaned_data[name] for name in edited}
        return fields, (list(form.cleaned_data["breaches"]) if "breaches" in data else None)
