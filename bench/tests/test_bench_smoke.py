"""A tiny smoke run of the benchmark harness (the real benchmark is not part of the suite)."""

import json

import pytest
from django.core.management import call_command

from bench.management.commands.run_bench import STEPS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_harness_runs_end_to_end_on_a_tiny_data_set(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    call_command("seed_scale", "--preset", "tiny")
    steps = [step for step in STEPS if step != "throughput"]  # throughput needs gunicorn and wrk
    call_command("run_bench", "--preset", "smoke", "--repeat", "1", "--out", str(tmp_path), "--only", *steps)
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
    assert "### 1. detect_breaches" in (tmp_path / "RESULTS.md").read_text()
