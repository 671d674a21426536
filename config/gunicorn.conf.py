"""gunicorn settings for the web tier (``gunicorn -c config/gunicorn.conf.py config.wsgi``).

Workers: ``WEB_CONCURRENCY`` (default 2: one per core of the machine the benchmark runs on). Each worker runs
``GUNICORN_THREADS`` threads (gthread worker; 1 = the plain sync worker): a request waiting on PostgreSQL
leaves the core to another request of the same worker. ``GUNICORN_TIMEOUT`` (default 300 s): how long one
request may run, long enough for a list download of a million rows. ``bench/NOTES.md`` ("Pages and
throughput", "Exports") has the measurements behind the defaults.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# A sync worker busy with one request for longer than this is killed and restarted: gunicorn's default (30 s)
# cut streamed list downloads after a few tens of thousands of rows.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "300"))
# A browser keeps its connection for the page's static files and the next page (gthread only).
keepalive = 5
