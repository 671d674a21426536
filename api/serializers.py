"""What the API shows of each model, and what it takes in. Related rows are named by their ids, and a
contract also by its ``reference`` (what vendors and imports use)."""

from rest_framework import serializers

from contracts.models import Contract, ReplacementObligation, StaffMember
from kpis.models import SLA, Breach, Measurement
from vendors.models import Vendor


class VendorSerializer(serializers.ModelSerializer):
    # Not a URLField: the schema would promise a URI, and a vendor without a web site has "".
    website = serializers.CharField(read_only=True, help_text="The vendor's web site (a URL), or empty.")
    certifications = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Vendor
        fields = [
            "id",
            "name",
            "country",
            "website",
            "contact_name",
            "contact_email",
            "status",
            "risk_tier",
            "certifications",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contract
        fields = [
            "id",
            "reference",
            "title",
            "vendor",
            "owner",
            "engagement_model",
            "service_type",
            "service_line",
            "sourcing_model",
            "delivery_center",
            "start_date",
            "end_date",
            "notice_days",
            "auto_renew",
            "currency",
            "monthly_fee",
            "at_risk_percent",
            "contracted_headcount",
            "replacement_days",
            "reporting_grace_days",
            "status",
            "updated_at",
        ]
        read_only_fields = fields


class SLASerializer(serializers.ModelSerializer):
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)
    kpi = serializers.CharField(source="kpi.code", read_only=True)
    kpi_name = serializers.CharField(source="kpi.name", read_only=True)
    unit = serializers.CharField(source="kpi.unit", read_only=True)
    direction = serializers.CharField(source="kpi.direction", read_only=True)

    class Meta:
        model = SLA
        fields = [
            "id",
            "contract",
            "contract_reference",
            "kpi",
            "kpi_name",
            "unit",
            "direction",
            "expected",
            "minimum",
            "frequency",
            "credit_allocation_percent",
            "effective_from",
            "effective_to",
            "active",
        ]
        read_only_fields = fields


class MeasurementSerializer(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="sla.contract_id", read_only=True)
    contract_reference = serializers.CharField(source="sla.contract.reference", read_only=True)
    kpi = serializers.CharField(source="sla.kpi.code", read_only=True)

    class Meta:
        model = Measurement
        fields = [
            "id",
            "sla",
            "contract",
            "contract_reference",
            "kpi",
            "period_start",
            "period_end",
            "value",
            "source",
            "recorded_at",
            "updated_at",
            "note",
        ]
        read_only_fields = fields


class FigureSerializer(serializers.Serializer):
    """One item of ``POST /api/v1/measurements/`` (documentation: items are checked by
    ``kpis.imports.check_figures``, the import's and the KPI entry form's rule)."""

    contract = serializers.CharField(help_text="The contract's reference.")
    kpi = serializers.CharField(help_text="The KPI code, e.g. service_level.")
    period_start = serializers.DateField(help_text="First day of the SLA's period (day, ISO week, month, quarter).")
    value = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PushResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    corrected = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class BreachSerializer(serializers.ModelSerializer):
    contract_reference = serializers.CharField(source="contract.reference", read_only=True)
    kpi = serializers.SerializerMethodField()
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Required to waive; appended to the notes with who and when.",
    )

    class Meta:
        model = Breach
        fields = [
            "id",
            "kind",
            "severity",
            "status",
            "contract",
            "contract_reference",
            "sla",
            "kpi",
            "measurement",
            "obligation",
            "period_start",
            "period_end",
            "expected",
            "minimum",
            "actual",
            "service_credit",
            "credit_earned_back",
            "detected_at",
            "updated_at",
            "notes",
            "reason",
        ]
        read_only_fields = [f for f in fields if f not in ("status", "notes", "reason")]

    def get_kpi(self, breach) -> str | None:
        return breach.sla.kpi.code if breach.sla_id else None


class StaffMemberSerializer(serializers.ModelSerializer):
    contract = serializers.SlugRelatedField(
        slug_field="reference", queryset=Contract.objects.all(), help_text="The contract's reference."
    )
    contract_id = serializers.IntegerField(read_only=True)
    replacement_obligation = serializers.SerializerMethodField()

    class Meta:
        model = StaffMember
        fields = [
            "id",
            "contract",
            "contract_id",
            "employee_ref",
            "full_name",
            "role",
            "joined_on",
            "left_on",
            "leave_reason",
            "replacement_obligation",
        ]
        read_only_fields = ["id", "contract_id", "replacement_obligation"]

    def get_replacement_obligation(self, member) -> int | None:
        obligation = getattr(member, "replacement_obligation", None)
        return obligation.pk if obligation else None


class DepartureSerializer(serializers.ModelSerializer):
    """``PATCH /api/v1/staff/<id>/``: a leaver (or a corrected departure)."""

    class Meta:
        model = StaffMember
        fields = ["left_on", "leave_reason"]


class ObligationSerializer(serializers.ModelSerializer):
    contract = serializers.IntegerField(source="departed.contract_id", read_only=True)
    contract_reference = serializers.CharField(source="departed.contract.reference", read_only=True)
    departed_name = serializers.CharField(source="departed.full_name", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = ReplacementObligation
        fields = [
            "id",
            "departed",
            "departed_name",
            "contract",
            "contract_reference",
            "due_on",
            "candidate_provided_on",
            "replacement_productive_on",
            "replacement",
            "state",
        ]
        read_only_fields = fields

    def get_state(self, obligation) -> str:
        return str(obligation.state())
