"""Export step: the breach list's CSV (``?_export=csv``, a StreamingHttpResponse over a server-side cursor)
downloaded through gunicorn as a browser would, read as it streams.

For each size, a fresh gunicorn with one worker (`config/gunicorn.conf.py` otherwise: sync worker,
``GUNICORN_TIMEOUT``) answers one warm-up page, then the export; the client reads ``rows`` rows (or to the end when
there are fewer) and hangs up. Reported: rows/s from the request to the last row read, time to the
first row, and the worker's resident memory after the warm-up and at its peak (``VmHWM``): flat memory
means the peak does not grow with the rows. The XLSX export is not measured: it builds the whole
workbook in memory before the first byte (``common.exports.write_xlsx``), so it does not stream.
"""

import socket
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from bench import processes
from bench.load import session_cookie, start_gunicorn, stop_process

READ_BYTES = 256 * 1024
READ_TIMEOUT = 600


def stream_rows(port, path, cookie, rows, watch_pid=None):
    """Read ``path`` over HTTP/1.0 (the body as it comes, no chunk framing to decode) until ``rows`` lines
    after the header, or the end. Returns rows read, seconds to the first body byte, seconds in all,
    whether the body ended by itself, and the peak of ``watch_pid``'s ``VmHWM`` seen while reading (the
    worker may be killed mid-stream, by gunicorn's timeout)."""
    started = time.perf_counter()
    first = None
    lines = -1  # the header line
    ended = False
    peak = processes.memory_kb(watch_pid, "VmHWM") if watch_pid else None
    checked = started
    head = b""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n".encode())
        while lines < rows:
            try:
                block = sock.recv(READ_BYTES)
            except ConnectionResetError:
                block = b""
            if not block:
                ended = True
                break
            if first is None:  # the status line and headers come first
                head += block
                if b"\r\n\r\n" not in head:
                    continue
                status = head.split(b"\r\n", 1)[0]
                if b" 200 " not in status:
                    raise RuntimeError(f"{path}: {status.decode(errors='replace')}")
                block = head.split(b"\r\n\r\n", 1)[1]
                first = time.perf_counter() - started
            lines += block.count(b"\n")
            if watch_pid and time.perf_counter() - checked > 0.5:
                checked = time.perf_counter()
                peak = max(peak or 0, processes.memory_kb(watch_pid, "VmHWM") or 0)
    # Hung up: the server stops at its next write.
    if watch_pid:
        peak = max(peak or 0, processes.memory_kb(watch_pid, "VmHWM") or 0)
    return max(lines, 0), first, time.perf_counter() - started, ended, peak


def bench_exports(database_url, sizes=(100_000, 1_000_000)):
    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench_admin", "bench@example.com", "bench-admin")
    path = reverse("kpis:breach_list") + "?_export=csv"
    figures = {"path": path, "workers": 1, "sizes": {}}
    for size in sizes:
        port = processes.bench_port(2)
        log_path = settings.DATA_DIR / f"bench-export-gunicorn-{size}.log"
        server = start_gunicorn(port, database_url, log_path, workers=1)
        try:
            cookie = session_cookie(user)
            warm = stream_rows(port, reverse("kpis:breach_list"), cookie, 10**9)  # the page, not the export
            (worker,) = processes.children(server.pid)
            before = processes.memory_kb(worker)
            rows, first, seconds, ended, peak = stream_rows(port, path, cookie, size, watch_pid=worker)
            time.sleep(0.5)  # a worker timed out mid-stream is being replaced: its arbiter logs it
            cut = f"WORKER TIMEOUT (pid:{worker})" in log_path.read_text(errors="replace")
        finally:
            stop_process(server)
        figures["sizes"][str(size)] = {
            "rows": rows,
            "seconds": round(seconds, 2),
            "first_row_seconds": round(first or 0, 2),
            "rows_per_second": round(rows / seconds) if seconds else None,
            "fewer_rows_in_table": not cut and ended and rows < size,
            "cut_by_worker_timeout": cut,
            "worker_rss_before_mb": processes.mb(before),
            "worker_peak_rss_mb": processes.mb(peak),
            "warm_up_seconds": round(warm[2], 2),
        }
    peaks = [size["worker_peak_rss_mb"] - size["worker_rss_before_mb"] for size in figures["sizes"].values()]
    figures["rss_growth_mb"] = peaks
    return figures
