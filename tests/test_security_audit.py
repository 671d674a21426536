"""scripts/security_audit.py (``make audit``, run by .ci/run): bandit findings and known vulnerabilities fail;
an unreachable vulnerability database is reported loudly but does not fail by itself."""

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("security_audit", ROOT / "scripts" / "security_audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_a_known_vulnerability_fails():
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.1"]}]},
            {"name": "celery", "version": "5.7.0", "vulns": []},
        ]
    }
    ok, lines = audit.judge_pip_audit(1, report, "")
    assert not ok
    assert "  django 5.2.0: PYSEC-2025-1 (fixed in 5.2.1)" in lines


def test_a_clean_audit_passes_and_says_how_many_were_checked():
    report = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]}
    assert audit.judge_pip_audit(0, report, "") == (True, ["pip-audit: no known vulnerabilities in 1 packages"])


def test_packages_it_could_not_look_up_are_not_a_silent_pass():
    report = {
        "dependencies": [
            {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)"},
            {"name": "celery", "version": "5.7.0", "vulns": []},
        ]
    }
    ok, lines = audit.judge_pip_audit(0, report, "No known vulnerabilities found")
    assert ok  # not a failure by itself …
    assert "could NOT audit 1 of 2 packages" in lines[0]  # … but said
    assert any("NOT a clean result" in line for line in lines)


def test_an_unreachable_database_is_said_loudly():
    output = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev'): Max retries exceeded"
    ok, lines = audit.judge_pip_audit(1, None, output)
    assert ok and "could NOT reach its vulnerability database" in lines[0]


def test_any_other_pip_audit_error_fails():
    ok, lines = audit.judge_pip_audit(2, None, "error: unrecognized arguments: --bogus")
    assert not ok and "unrecognized arguments" in lines[-1]


def test_the_loud_warning_is_printed_in_a_banner(capsys):
    audit.banner(["WARNING: one", "two"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == out[-1] and set(out[0]) == {"!"} and "WARNING: one" in out[1]


def test_bandit_finds_nothing_new_in_the_code():
    assert audit.run_bandit()


def test_bandit_would_catch_an_unmarked_finding(tmp_path):
    (tmp_path / "bad.py").write_text("import subprocess\nsubprocess.call('ls ' + input(), shell=True)\n")
    result = subprocess.run(
        [str(audit.BIN / "bandit"), "-c", str(ROOT / "pyproject.toml"), "-r", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "B602" in result.stdout
