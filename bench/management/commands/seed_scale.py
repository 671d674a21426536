import dataclasses

from django.core.management.base import BaseCommand, CommandError

from bench.scale_data import PRESETS, generate


class Command(BaseCommand):
    help = "Generate a large synthetic data set (COPY on PostgreSQL) for benchmarks: --preset tiny|small|large|xl."

    def add_arguments(self, parser):
        parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
        parser.add_argument("--vendors", type=int)
        parser.add_argument("--contracts-per-vendor", type=int)
        parser.add_argument("--months", type=int)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, preset, vendors, contracts_per_vendor, months, seed, **options):
        base = PRESETS[preset]
        chosen = dataclasses.replace(  # the preset's other settings (managers, frequency mix) kept
            base,
            vendors=vendors or base.vendors,
            contracts_per_vendor=contracts_per_vendor or base.contracts_per_vendor,
            months=months or base.months,
        )
        if chosen.vendors < 1 or chosen.contracts_per_vendor < 1 or chosen.months < 1:
            raise CommandError("--vendors, --contracts-per-vendor and --months must be at least 1.")
        counts, timings = generate(chosen, seed=seed, log=self.stdout.write)
        for stage, seconds in timings.items():
            self.stdout.write(f"  {stage:<13} {seconds:7.1f}s (cumulative)")
