"""The layers of README's "Layout", as import-linter contracts in pyproject.toml (`lint-imports`, run by
scripts/run_tests.sh before the suite, so CI fails on a violation)."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
DOMAIN_APPS = ("vendors", "contracts", "kpis")


def contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def app_modules(app):
    """The app's own modules (tests and migrations aside), as dotted names; a package counts as one."""
    names = set()
    for path in (ROOT / app).iterdir():
        if path.name in ("tests", "migrations", "__init__.py", "__pycache__"):
            continue
        if path.suffix == ".py":
            names.add(f"{app}.{path.stem}")
        elif (path / "__init__.py").exists():
            names.add(f"{app}.{path.name}")
    return names


def test_every_domain_app_module_is_named_domain_or_presentation():
    """A new module of vendors, contracts or kpis must be put in a layer (contract 3a) before it lands."""
    layers = contracts()["domain-below-presentation"]
    domain, presentation = set(layers["source_modules"]), set(layers["forbidden_modules"])
    assert not domain & presentation
    for app in DOMAIN_APPS:
        unplaced = app_modules(app) - domain - presentation
        assert not unplaced, f"put {sorted(unplaced)} in a layer: pyproject.toml [tool.importlinter]"
    assert {m for m in domain if m.startswith("vendors.")} == set(contracts()["vendors-domain"]["source_modules"])
    assert {m for m in domain if m.startswith("contracts.")} == set(contracts()["contracts-domain"]["source_modules"])


def run_lint_imports(cwd):
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_the_layers_hold():
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_function_local_import_of_a_higher_app_breaks_the_layers(tmp_path):
    """The hidden cycle this replaced: a vendor model method importing kpis inside the function."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".git", ".venv", "data", "node_modules", "__pycache__", ".*_cache", "static"),
    )
    with (copy / "vendors" / "models.py").open("a") as models:
        models.write(
            "\n\ndef open_breaches(vendor):\n    from kpis.models import Breach\n\n    return Breach.objects.all()\n"
        )
    result = run_lint_imports(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "vendors.models -> kpis.models" in result.stdout
