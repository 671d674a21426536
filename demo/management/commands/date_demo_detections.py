from django.core.management.base import BaseCommand

from demo.data import date_demo_detections


class Command(BaseCommand):
    help = (
        "Demo only, after `seed_demo` and `run_sla_checks`: date each demo breach's detection as if the hourly "
        "checks had been running all along (a figure's breach when it was recorded, a missing report after "
        "the grace days, a replacement the day after it fell due), so past weeks' digests have content."
    )

    def handle(self, *args, **options):
        count = date_demo_detections()
        self.stdout.write(self.style.SUCCESS(f"Dated the detection of {count} demo breaches."))
