#!/usr/bin/env bash
# The whole test suite on real PostgreSQL and Redis (pytest-django creates the test database itself).
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sla_tracker}
export CELERY_BROKER_URL=${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}
# The layers first (pyproject.toml [tool.importlinter], README "Layout"): a forbidden import fails the run.
.venv/bin/lint-imports --no-logo
exec .venv/bin/pytest "$@"
