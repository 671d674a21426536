"""A tiny smoke run of the benchmark harness (the real benchmark is not part of the suite)."""

import json

import pytest
from django.core.management import call_command

from bench.api_push import VENDOR_NAME as API_PUSH_VENDOR
from bench.management.commands.run_bench import STEPS
from vendors.models import Vendor

WORKER_AND_EXPORT_STEPS = ("corrected_figure", "cold_check_worker", "exports")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_harness_runs_end_to_end_on_a_tiny_data_set(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    call_command("seed_scale", "--preset", "tiny")
    # throughput needs wrk; the steps with a Celery worker or a download have their own smoke below
    steps = [step for step in STEPS if step not in ("throughput", *WORKER_AND_EXPORT_STEPS)]
    call_command(
        "run_bench", "--preset", "smoke", "--repeat", "1", "--out", str(tmp_path), "--only", *steps,
        "--load-seconds", "1", "--load-clients", "2", "3",
    )  # fmt: skip
    results = json.loads((tmp_path / "results" / "smoke.json").read_text())
    for step in steps:
        assert "error" not in results[step], results[step]
    assert results["summaries"]["rows"]["contract_months"] > 0
    assert results["detect_incremental"]["one_figure"]["seconds"] > 0
    assert results["detect_cold"]["breaches_written"] > 0
    assert results["naive_vs_set_based"]["speed_up"] > 0
    assert all(page["status"] == 200 for page in results["pages"].values()), results["pages"]
    assert all(page["queries"] > 0 for page in results["pages"].values()), results["pages"]
    assert results["digest"]["result"]["emails"] == results["digest"]["result"]["recipients"] > 0
    assert 0 < results["digest"]["result"]["largest_html_bytes"] < 100_000
    load = results["load"]["levels"]
    assert set(load) == {"2", "3"}
    rendered = results["load"]["rendered"]  # the most clients again, the page cache off
    assert set(rendered) == {"3"} and rendered["3"]["requests"] > 0 and rendered["3"]["errors"] == 0
    assert all(level["requests"] > 0 and level["errors"] == 0 for level in load.values()), load
    assert all(level["p50_ms"] <= level["p99_ms"] for level in load.values())
    # what the requests cost: gunicorn's workers and the database's backends both did the work
    assert all(level["cpu_per_request"]["web_cpu_ms"] > 0 for level in load.values()), load
    assert all(level["cpu_per_request"]["db_cpu_ms"] > 0 for level in load.values()), load
    text = (tmp_path / "RESULTS.md").read_text()
    assert "### 1. detect_breaches" in text and "### 7. Mixed pages under concurrent load" in text
    assert "| 3, every page rendered |" in text
    assert "CPU ms per request" in text
    push = results["api_push"]
    assert sum(push["counts"].values()) == push["figures"] > 0
    assert push["counts"]["corrected"] > 0 and push["counts"]["unchanged"] > 0 and push["counts"]["created"] > 0
    assert push["breaches_found"] == push["breaches_expected"] > 0  # recorded by a real worker
    assert push["repeat_first_batch"]["answer"] == {"created": 0, "corrected": 0, "unchanged": push["batch_size"]}
    assert not Vendor.objects.filter(name=API_PUSH_VENDOR).exists()  # the step removes what it made
    assert "### 8. API push" in text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_load_step_fails_on_any_error(tmp_path, settings, monkeypatch):
    """A page that does not answer 200 under load makes the step (and so the run) fail."""
    from django.core.management.base import CommandError

    from bench import load

    settings.DATA_DIR = tmp_path
    # 404 for every client, asked first (client 0 starts with it): on a busy machine a client makes few requests
    monkeypatch.setattr(load, "PAGES", {"missing page": "/no-such-page/", **load.PAGES})
    with pytest.raises(CommandError, match="These steps failed: load"):
        call_command(
            "run_bench", "--preset", "smoke", "--out", str(tmp_path), "--only", "load",
            "--load-seconds", "0.5", "--load-clients", "2",
        )  # fmt: skip
    results = json.loads((tmp_path / "results" / "smoke.json").read_text())
    assert "failed requests" in results["load"]["error"]
    assert results["load"]["levels"]["2"]["error_examples"][0].startswith("/no-such-page/: HTTP 404")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_and_export_steps_measure_a_real_worker_and_a_streamed_download(tmp_path, settings):
    """The xl preset's own steps on a tiny data set: a real Celery worker (the suite's Redis) runs the
    cold check and the checks of corrected figures; gunicorn streams the breach list's CSV."""
    from kpis.models import Breach, Measurement

    settings.DATA_DIR = tmp_path
    call_command("seed_scale", "--preset", "tiny")
    values = dict(Measurement.objects.values_list("pk", "value"))
    call_command(
        "run_bench", "--preset", "smoke", "--out", str(tmp_path), "--only", *WORKER_AND_EXPORT_STEPS
    )  # fmt: skip
    results = json.loads((tmp_path / "results" / "smoke.json").read_text())
    cold = results["cold_check_worker"]
    assert cold["breaches_written"] == Breach.objects.count() > 0
    assert cold["pool_processes"] == 1 and 0 < cold["rss_before_mb"] <= cold["peak_rss_mb"] < 1000
    fixed = results["corrected_figure"]["result"]
    assert fixed["figures"] == 5 and fixed["published_through_broker"] is True
    assert 0 < fixed["median_ms"] <= fixed["max_ms"] < 60_000
    # Six figures (one to warm the worker up) were corrected to a breach and back by a manager.
    assert dict(Measurement.objects.values_list("pk", "value")) == values
    assert Measurement.objects.filter(source="manual").count() == 6
    export = results["exports"]["sizes"]["100000"]
    # Fewer breaches than asked: the whole list was read, to its end, none cut.
    assert export["rows"] == Breach.objects.count() and export["fewer_rows_in_table"]
    assert not export["cut_by_worker_timeout"] and export["worker_peak_rss_mb"] >= export["worker_rss_before_mb"]
    text = (tmp_path / "RESULTS.md").read_text()
    assert "### 9. Through a real Celery worker" in text and "### 10. Breach list CSV export" in text
