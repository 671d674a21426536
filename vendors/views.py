from django.utils import timezone

from common.charts import compliance_chart
from common.lookups import LookupView
from common.views import ObjectDetailView, ObjectEditView, ObjectListView
from contracts.figures import vendors_with_counts
from contracts.models import Contract
from kpis.figures import contracts_with_counts, vendor_service_credits, vendors_with_scorecard
from kpis.models import Measurement

from .filtersets import VendorFilterSet
from .forms import DeliveryCenterForm, VendorForm
from .models import DeliveryCenter, Vendor
from .tables import VendorTable


class VendorListView(ObjectListView):
    model = Vendor
    queryset = vendors_with_counts(Vendor.objects.all())
    filterset_class = VendorFilterSet
    table_class = VendorTable
    add_url_name = "vendors:vendor_add"


class VendorDetailView(ObjectDetailView):
    model = Vendor
    template_name = "vendors/vendor_detail.html"

    def get_queryset(self):
        return vendors_with_scorecard(Vendor.objects.all()).prefetch_related("certifications", "delivery_centers")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        vendor = self.object
        trend = Measurement.objects.filter(sla__contract__vendor=vendor).recent_compliance_by_month(
            timezone.localdate()
        )
        context.update(
            contracts=contracts_with_counts(Contract.objects.filter(vendor=vendor).for_list()),
            trend_chart=compliance_chart(trend),
            service_credits=vendor_service_credits(vendor),
        )
        return context


class VendorEditView(ObjectEditView):
    model = Vendor
    form_class = VendorForm

    def new_instance(self):
        return Vendor(created_by=self.request.user)


class DeliveryCenterEditView(ObjectEditView):
    model = DeliveryCenter
    form_class = DeliveryCenterForm
    parent_model = Vendor
    parent_kwarg = "vendor_pk"

    def get_queryset(self):
        return DeliveryCenter.objects.filter(vendor_id=self.kwargs["vendor_pk"])

    def new_instance(self):
        return DeliveryCenter(vendor=self.parent)

    def get_success_url(self):
        return self.object.vendor.get_absolute_url()

    def get_cancel_url(self):
        return self.parent.get_absolute_url()


class VendorLookupView(LookupView):
    queryset = Vendor.objects.order_by("name")
    search_fields = ("name",)
