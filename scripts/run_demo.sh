#!/usr/bin/env bash
# Starts the web app, a Celery worker and beat on the embedded defaults (SQLite + filesystem broker),
# or on DATABASE_URL / CELERY_BROKER_URL when they are set. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
# wsgi.py, asgi.py and config/celery.py default to production settings; the demo runs on the local ones.
export DJANGO_SETTINGS_MODULE=config.settings.local
BIN=.venv/bin
mkdir -p data/logs

trap 'kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM
$BIN/celery -A config worker --loglevel=INFO --concurrency=2 --without-gossip --without-mingle \
    >data/logs/worker.log 2>&1 &
$BIN/celery -A config beat --loglevel=INFO >data/logs/beat.log 2>&1 &

cat <<TXT

  SLA tracker demo: http://127.0.0.1:${PORT}/      (admin site: http://127.0.0.1:${PORT}/admin/)
  Logins (demo only): admin / demo-admin-2026, manager / demo-manager-2026, viewer / demo-viewer-2026
  Worker and beat logs: data/logs/worker.log, data/logs/beat.log

TXT
$BIN/python manage.py runserver "0.0.0.0:${PORT}" --noreload
