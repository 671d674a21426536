"""Send (or preview) one ISO week's breach digest, in-process, a batch at a time."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kpis import digest, periods


class Command(BaseCommand):
    help = "Send the weekly breach digest for one ISO week (default: last week). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: the previous week).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print who would get what; send nothing, record nothing."
        )

    def handle(self, *args, week=None, dry_run=False, **options):
        week = week or periods.previous_iso_week(timezone.localdate())
        try:
            periods.parse_iso_week(week)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if dry_run:
            digests = digest.preview_weekly_digest(week)
            for item in digests:
                scope = "all vendors" if item.all_vendors else "own contracts"
                self.stdout.write(f"{item.recipient_email} ({scope}): {item.subject}")
            sent = len(digest.already_sent(week))
            self.stdout.write(
                f"Dry run: {len(digests)} digests for {week} would be sent now"
                + (f" ({sent} already sent earlier)" if sent else "")
                + "; nothing was sent."
            )
            return
        sent = failed = 0
        for batch in digest.plan_weekly_batches(week):
            report = digest.deliver_digests(batch)  # one SMTP connection per batch
            sent += report.count("sent")
            for delivery_id, error in report.errors.items():
                self.stderr.write(f"Delivery {delivery_id} failed: {error}")
            failed += len(report.errors) + report.count("not attempted")
        self.stdout.write(f"Digest {week}: {sent} sent, {failed} failed.")
        if failed:
            raise CommandError(f"{failed} digests failed; run the command again to retry them.")
