"""Security checks that CI runs (``make audit``, from ``.ci/run``): bandit on our code, pip-audit on the
installed packages.

* bandit: every finding is fixed or marked ``# nosec BXXX  # why it is safe``.
* pip-audit: a known vulnerability fails. When the vulnerability database cannot be reached (this machine
  reaches package indexes only), that is said loudly and does not fail the run by itself: it is not a clean
  audit, and the output says so.

Exit status: 0 clean (or audit impossible), 1 findings.
"""

import json
import subprocess  # nosec B404  # runs only bandit and pip-audit from this virtualenv
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UNREACHABLE_MARKERS = ("ConnectionError", "NameResolutionError", "Max retries exceeded", "timed out", "SSLError")


def banner(lines):
    width = max(len(line) for line in lines) + 4
    print("!" * width)
    for line in lines:
        print(f"! {line.ljust(width - 4)} !")
    print("!" * width, flush=True)


def run_bandit():
    result = subprocess.run(  # nosec B603  # fixed argument list, no shell
        [str(BIN / "bandit"), "-c", "pyproject.toml", "-r", ".", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    noise = ("no failed test on file", "is not a test name or id")
    print("\n".join(line for line in result.stdout.splitlines() if not any(n in line for n in noise)))
    print(f"bandit: {'no findings' if result.returncode == 0 else 'FINDINGS (see above)'}", flush=True)
    return result.returncode == 0


def judge_pip_audit(returncode, report, output):
    """``(ok, lines to print)`` from pip-audit's exit code, its JSON report (or None) and its text output."""
    if report is None:
        if any(marker in output for marker in UNREACHABLE_MARKERS):
            return True, [
                "pip-audit could NOT reach its vulnerability database: the packages were NOT audited.",
                "This is not a clean result; run `make audit` where the internet is reachable.",
                output.strip().splitlines()[-1][:200] if output.strip() else "",
            ]
        return False, ["pip-audit failed:", *output.strip().splitlines()[-20:]]
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    if vulnerable:
        lines = ["pip-audit found known vulnerabilities:"]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
                lines.append(f"  {dep['name']} {dep.get('version', '')}: {vuln['id']} (fixed in {fixes})")
        return False, lines
    audited = len(dependencies) - len(skipped)
    if skipped:
        return True, [
            f"pip-audit could NOT audit {len(skipped)} of {len(dependencies)} packages: their vulnerability",
            "records were not available (the vulnerability database is unreachable from this machine).",
            f"Audited: {audited}. This is NOT a clean result for the others.",
            f"e.g. {skipped[0]['skip_reason']}",
        ]
    return returncode == 0, [f"pip-audit: no known vulnerabilities in {audited} packages"]


def run_pip_audit():
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "audit.json"
        result = subprocess.run(  # nosec B603  # fixed argument list, no shell
            [str(BIN / "pip-audit"), "--local", "--progress-spinner", "off", "-f", "json", "-o", str(report_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        report = json.loads(report_path.read_text()) if report_path.exists() and report_path.stat().st_size else None
    ok, lines = judge_pip_audit(result.returncode, report, result.stdout + result.stderr)
    if ok and len(lines) > 1:
        banner(["WARNING: " + lines[0], *lines[1:]])
    else:
        print("\n".join(lines), flush=True)
    return ok


def main():
    results = [run_bandit(), run_pip_audit()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
