"""``manage.py refresh_summaries [--contract ID …]``: rebuild the report summary tables now."""

from django.core.management.base import BaseCommand

from reports.summaries import refresh_summaries


class Command(BaseCommand):
    help = "Rebuild the summary tables behind the dashboard and the admin reports (all, or some contracts)."

    def add_arguments(self, parser):
        parser.add_argument("--contract", type=int, action="append", dest="contracts", help="Only this contract id.")

    def handle(self, *args, contracts=None, **options):
        result = refresh_summaries(contracts)
        self.stdout.write(
            f"Summaries of {result['contracts']} contract(s): {result['contract_months']} contract-months, "
            f"{result['vendor_months']} vendor-months, {result['slas']} SLAs in {result['seconds']} s."
        )
