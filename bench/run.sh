#!/usr/bin/env bash
# Benchmark on PostgreSQL: fresh database, seed_scale <preset>, run_bench. Writes bench/RESULTS.md.
#   bash bench/run.sh small          (under a minute)
#   bash bench/run.sh large          (2,000 vendors, 20,000 contracts, 2.4 M figures)
#   bash bench/run.sh xl             (10,000 vendors, 50,000 contracts, 10 M figures; about an hour)
#   REUSE=1 bash bench/run.sh large --only pages digest   (re-measure steps on the existing database)
# The worker steps (corrected_figure, cold_check_worker) want a Redis broker to time latency:
#   BENCH_BROKER_URL=redis://127.0.0.1:6379/N (else CELERY_BROKER_URL; the filesystem broker polls each second).
# On a shared machine, BENCH_PORT=P keeps the servers on P (wrk), P+1 (load), P+2 (exports).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-small}
shift || true
DB=${BENCH_DATABASE_URL:+${BENCH_DATABASE_URL##*/}}
DB=${DB:-sla_bench_${PRESET}}
# Step 6 drives gunicorn with wrk (a Debian package).
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null || echo "wrk not installed: the throughput step will be skipped"
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/${DB}}
export DJANGO_SETTINGS_MODULE=config.settings.local
export DEBUG=False
export DATA_DIR=${DATA_DIR:-/tmp/sla-bench-data}
export EMAIL_URL=dummymail://
# Steps with a real worker publish through Redis, as production does, when it runs here (else the settings' broker).
if [ -z "${BENCH_BROKER_URL:-}" ] && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    export BENCH_BROKER_URL=redis://127.0.0.1:6379/12
fi
if [ -z "${REUSE:-}" ]; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS ${DB}" -c "CREATE DATABASE ${DB}"
    .venv/bin/python manage.py migrate -v0
    .venv/bin/python manage.py seed_scale --preset "$PRESET"
else
    .venv/bin/python manage.py migrate -v0  # a reused database gets the code's newer migrations first
fi
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py run_bench --preset "$PRESET" --command-line "bash bench/run.sh $PRESET $*" "$@"
