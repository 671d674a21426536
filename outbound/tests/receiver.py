"""A real HTTP receiver for the tests: ``http.server`` in a thread on 127.0.0.1 (ports 8120–8129), which
records each request and answers from a plan (status codes, or ``("sleep", seconds)`` to time out)."""

import hashlib
import hmac
import http.server
import threading
import time
from dataclasses import dataclass, field

PORTS = range(8120, 8130)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    plan: list = field(default_factory=list)  # answers, first to last; then 200
    requests: list = field(default_factory=list)
    redirect_to: str = "http://127.0.0.1:1/elsewhere"

    def answer(self):
        return self.plan.pop(0) if self.plan else 200

    def verify(self, request, secret, tolerance=300):
        """What a receiver does (README, "Webhooks and alerts"): recompute the signature, check the age."""
        timestamp = request.headers["X-SLA-Timestamp"]
        expected = (
            "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
        )
        fresh = abs(time.time() - int(timestamp)) < tolerance
        return fresh and hmac.compare_digest(expected, request.headers["X-SLA-Signature"])


def start_receiver():
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            answer = receiver.answer()
            if isinstance(answer, tuple):  # ("sleep", seconds): longer than the sender waits
                time.sleep(answer[1])
                answer = 200
            self.send_response(answer)
            if 300 <= answer < 400:
                self.send_header("Location", receiver.redirect_to)
            payload = b"ok" if answer < 300 else b"receiver says no"
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    for port in PORTS:
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
            break
        except OSError:
            continue
    else:
        raise RuntimeError(f"No free port in {PORTS}")
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sla"
    return receiver, server
