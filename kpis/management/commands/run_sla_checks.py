"""Run every SLA check in-process, in order: replacements, attrition, breaches, renewals."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from contracts.renewals import check_renewals
from kpis.attrition import compute_attrition
from kpis.breaches import detect_breaches
from kpis.replacements import check_replacement_obligations
from kpis.signals import breaches_checked


class Command(BaseCommand):
    help = "Run all SLA checks now (replacements, attrition, breaches, renewals) and print a summary."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="Attrition month, e.g. 2026-05 (default: the previous month).")
        parser.add_argument("--today", help="Pretend today is this date (YYYY-MM-DD), e.g. to replay history.")

    def handle(self, *args, month=None, today=None, **options):
        try:
            today = datetime.date.fromisoformat(today) if today else None
            replacements = check_replacement_obligations(today)
            attrition = compute_attrition(month, today=today)
        except ValueError as error:
            raise CommandError(str(error)) from None
        breaches = detect_breaches(today=today)
        # As the hourly task does: the layers above follow (report summaries, the health heartbeat).
        breaches_checked.send(sender=self.__class__, contract_ids=None, today=today)
        renewals = check_renewals(today=today)
        self.stdout.write(
            "Replacements: {obligations_created} obligations created, {replacement_breaches_recorded} breaches "
            "raised or resolved, {replacement_breaches_withdrawn} withdrawn.".format(**replacements)
        )
        self.stdout.write(
            f"Attrition {attrition['month']}: {attrition['measurements_written']} figures written "
            f"for {len(attrition['sla_ids'])} SLAs."
        )
        self.stdout.write(
            "Breaches: performance {performance_recorded} recorded, {performance_updated} updated, "
            "{performance_withdrawn} withdrawn; missing reports {missing_reports_recorded} recorded, "
            "{missing_reports_updated} updated, {missing_reports_withdrawn} withdrawn.".format(**breaches)
        )
        self.stdout.write(f"Renewals: {len(renewals)} contracts with a notice deadline within 30 days.")
        for row in renewals:
            self.stdout.write(f"  {row['reference']} ({row['vendor']}): notice by {row['notice_deadline']}")
        self.stdout.write(self.style.SUCCESS("SLA checks done."))
