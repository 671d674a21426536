"""gunicorn settings for the web tier (``gunicorn -c config/gunicorn.conf.py config.wsgi``).

Workers: ``WEB_CONCURRENCY`` (default 2: one per core of the machine the benchmark runs on). Each worker runs
``GUNICORN_THREADS`` threads (gthread worker; 1 = the plain sync worker): a request waiting on PostgreSQL
leaves the core to another request of the same worker. ``bench/NOTES.md`` ("Pages and throughput") has the
measurements behind the defaults.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# A browser keeps its connection for the page's static files and the next page (gthread only).
keepalive = 5
