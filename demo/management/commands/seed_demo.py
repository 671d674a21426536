import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.data import DEMO_USERS, load_demo_data


class Command(BaseCommand):
    help = (
        "Load the demo data set: vendors, delivery centres, contracts, SLAs, 12+ months of KPI figures, "
        "staff rosters with departures, and the demo users. Safe to run again: nothing is duplicated. "
        "Breaches are not created here; run `manage.py run_sla_checks` afterwards. Refuses to run with the "
        "production settings (config.settings.production) unless given --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help="Build the data as if today were this date (YYYY-MM-DD). Default: the local date.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo data (and its well-known demo logins) even with the production settings.",
        )

    def handle(self, *args, today=None, force=False, **options):
        if settings.IS_PRODUCTION and not force:
            raise CommandError(
                "These are the production settings (config.settings.production): the demo data would add "
                "fictional vendors and demo logins with published passwords. Use --force if you really mean it."
            )
        if today:
            try:
                today = datetime.date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today: “{today}” is not a date; write it like 2026-11-23.")
        else:
            today = timezone.localdate()
        started = time.monotonic()
        created = load_demo_data(today)
        elapsed = time.monotonic() - started
        if any(created.values()):
            summary = ", ".join(f"{count} {name}" for name, count in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded ({summary}) in {elapsed:.1f}s."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Demo data already present: nothing to add ({elapsed:.1f}s)."))
        self.stdout.write("Demo logins (demo only — change or remove them on any shared server):")
        for username, password, *_rest, role, _all_vendors in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {password:<20} ({role})")
        self.stdout.write(
            "Next: `manage.py run_sla_checks` to detect breaches and service credits, then "
            "`manage.py date_demo_detections` to date them as if the checks had run all along."
        )
