import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench import runner
from bench.report import write_results

STEPS = [
    "detect_cold",
    "detect_incremental",
    "corrected_figure",
    "naive_vs_set_based",
    "raw_sql_floor",
    "cold_check_worker",
    "summaries",
    "pages",
    "exports",
    "digest",
    "throughput",
    "load",
    "api_push",
]


class Command(BaseCommand):
    help = "Measure the benchmark steps on the current (seeded, PostgreSQL) database and write bench/RESULTS.md."

    def add_arguments(self, parser):
        parser.add_argument("--preset", default="custom", help="Label for the data set (tiny/small/large).")
        parser.add_argument("--only", nargs="+", choices=STEPS, help="Run only these steps.")
        parser.add_argument("--repeat", type=int, help="Requests per page for latency (20 large, else 10).")
        parser.add_argument(
            "--load-seconds",
            type=float,
            help="How long the throughput step and each level of the load step drive the server "
            "(load: 60 s large, else 5 s; throughput: 15 s large, else 5 s).",
        )
        parser.add_argument(
            "--load-clients", type=int, nargs="+", default=[8, 32], help="Concurrent clients of the load step."
        )
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "bench"))
        parser.add_argument("--command-line", default="", help="The command that produced this run, for the record.")

    def handle(self, *args, preset, only, repeat, load_seconds, load_clients, out, command_line, **options):
        large = preset in ("large", "xl")  # the quick presets measure less, to stay under a minute
        repeat = repeat or (20 if large else 10)
        self.load_clients = load_clients
        self.load_level_seconds = load_seconds or (60 if large else 5)
        load_seconds = load_seconds or (15 if large else 5)
        results = {
            "preset": preset,
            "machine": runner.machine(),
            "counts": runner.table_counts(),
            "command": command_line,
        }
        for step in only or STEPS:
            self.stdout.write(f"… {step}")
            try:
                results[step] = self.run_step(step, results, repeat, load_seconds)
            except Exception as error:  # record and go on: one broken step must not hide the others
                results[step] = {"error": f"{type(error).__name__}: {error}"}
            self.stdout.write(json.dumps(results[step], default=str)[:400])
        results["counts_after"] = runner.table_counts()
        path = write_results(results, Path(out))
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))
        failed = [step for step in only or STEPS if "error" in results[step]]
        if failed:
            raise CommandError(f"These steps failed: {', '.join(failed)} (see {path})")

    def run_step(self, step, results, repeat, load_seconds):
        if step == "raw_sql_floor":
            floor = runner.raw_sql_floor()
            cold = results.get("detect_cold", {})
            if "seconds" in cold:
                floor["job_over_floor"] = round(cold["seconds"] / floor["seconds"], 2)
            return floor
        if step == "pages":
            return runner.bench_pages(repeat=repeat)
        if step == "throughput":
            return runner.bench_throughput(seconds=max(1, round(load_seconds)))
        if step == "exports":
            from bench.exports import bench_exports

            return bench_exports(runner._database_url())
        if step in ("corrected_figure", "cold_check_worker"):
            from bench import worker_steps

            return getattr(worker_steps, step)()
        if step == "load":
            from bench.load import bench_load

            return bench_load(runner._database_url(), seconds=self.load_level_seconds, concurrency=self.load_clients)
        if step == "api_push":
            from bench.api_push import bench_api_push

            return bench_api_push(runner._database_url(), preset=results["preset"])
        return {
            "detect_cold": runner.detect_cold,
            "detect_incremental": runner.detect_incremental,
            "naive_vs_set_based": runner.naive_vs_set_based,
            "summaries": runner.refresh_all_summaries,
            "digest": runner.bench_digest,
        }[step]()
