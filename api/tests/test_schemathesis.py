"""schemathesis over the whole OpenAPI schema, against the app on a live server (gunicorn, 2 workers, on the
test database) with real rows, once with a vendor key and once with a personal key (the owning manager's):
no 5xx, and every response — status code, content type, headers, body — as the schema documents it.
Generated cases are bounded per operation (``SCHEMATHESIS_MAX_EXAMPLES``, 10 by default) and the seed is
fixed (``SCHEMATHESIS_SEED`` to explore others), so a run takes about a minute per key and fails the same
way twice. ``SCHEMATHESIS_PORT`` picks the server's port (default: a free one)."""

import datetime
import os
import re
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from api.models import ApiKey
from contracts.replacements import ensure_obligation
from kpis.breaches import detect_breaches
from kpis.choices import BreachKind
from kpis.models import Breach
from tests.factories import (
    ContractFactory,
    MeasurementFactory,
    SLAFactory,
    StaffMemberFactory,
    UserFactory,
    VendorFactory,
)
from tests.workers import database_url, free_port, stop_process_group

BASE_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10")
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261201")
pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the live server shares the test database")


@pytest.fixture
def server(tmp_path):
    """gunicorn on the test database (the rows a test commits are what it serves); yields its URL."""
    port = int(os.environ.get("SCHEMATHESIS_PORT") or free_port())
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "DATA_DIR": str(tmp_path),
        "DEBUG": "False",
        "API_THROTTLE_RATE": "100000/min",  # a 429 is documented too, but would hide the rest
    }
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "60"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                urllib.request.urlopen(f"{url}/api/schema/", timeout=5).close()  # noqa: S310  (our loopback server)
                break
            except OSError:
                time.sleep(0.3)
        else:
            log.seek(0)
            pytest.fail("gunicorn did not start:\n" + log.read()[-3000:])
        yield url
    finally:
        stop_process_group(process)
        log.close()


@pytest.fixture(autouse=True)
def _today():
    """Not the API tests' frozen clock: the server runs on real time, and so do the rows made for it."""
    yield


@pytest.fixture
def rows():
    """A vendor with a contract, its SLA's figures (one missing it: a breach), a roster with a leaver (an
    obligation): the id of a row of each kind, for the operations that take one."""
    today = datetime.date.today()
    owner = UserFactory(username="schema_owner", role="manager")
    vendor = VendorFactory(name="Schema BPO", website="")
    contract = ContractFactory(
        owner=owner, vendor=vendor, reference="ST-1", start_date=today - datetime.timedelta(days=400)
    )
    sla = SLAFactory(contract=contract, effective_from=contract.start_date)
    month = contract.start_date.replace(day=1)
    for value in ("95", "60", "90"):
        month = (month + datetime.timedelta(days=32)).replace(day=1)
        figure = MeasurementFactory(sla=sla, period_start=month, value=Decimal(value))
    StaffMemberFactory(contract=contract, joined_on=contract.start_date)
    leaver = StaffMemberFactory(
        contract=contract,
        joined_on=contract.start_date,
        left_on=today - datetime.timedelta(days=40),
        leave_reason="voluntary",
    )
    obligation = ensure_obligation(leaver)
    detect_breaches()
    breach = Breach.objects.filter(contract=contract, kind=BreachKind.PERFORMANCE).get()
    ids = {
        "vendors": vendor.pk,
        "contracts": contract.pk,
        "slas": sla.pk,
        "measurements": figure.pk,
        "breaches": breach.pk,
        "staff": leaver.pk,
        "obligations": obligation.pk,
    }
    return owner, vendor, ids


def config_file(tmp_path, ids):
    """Every ``{id}`` operation on a real row (random ids would all answer 404)."""
    lines = []
    for endpoint, pk in ids.items():
        lines += [
            "[[operations]]",
            f'include-path = "/api/v1/{endpoint}/{{id}}/"',
            f'parameters = {{ "path.id" = {pk} }}',
            "",
        ]
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines))
    return path


def run_schemathesis(url, key, config, tmp_path):
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{url}/api/schema/",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",  # hypothesis' lambda descriptions are not thread-safe: several workers raise internal errors
        "--request-timeout",
        "20",
        "--no-color",
    ]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("kind", ["vendor", "personal"])
def test_every_operation_answers_as_the_schema_says(rows, server, tmp_path, kind):
    owner, vendor, ids = rows
    owner_or_vendor = {"vendor": vendor} if kind == "vendor" else {"user": owner}
    _key, raw = ApiKey.create_key(name="schemathesis", **owner_or_vendor)
    result = run_schemathesis(server, raw, config_file(tmp_path, ids), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", output)
    assert selected and selected[1] == selected[2], output[-3000:]  # every operation of the schema
    assert re.search(r"Tested: " + selected[1] + r"\b", output), output[-3000:]
