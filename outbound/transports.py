"""Sending: one HTTP POST (webhooks, Slack, Teams) or one e-mail, and what came of it.

Every POST: short timeouts (``OUTBOUND_TIMEOUT_SECONDS`` to connect and again to read), no retries here
(Celery retries the delivery), redirects not followed (a 3xx is a failure), only http(s) URLs, and at most
a few kilobytes of the answer read (for the attempt log).
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError

from .models import HTTP_URL

USER_AGENT = "SLA-Tracker-Webhooks/1"
SIGNATURE_HEADER = "X-SLA-Signature"
TIMESTAMP_HEADER = "X-SLA-Timestamp"
EVENT_HEADER = "X-SLA-Event"
DELIVERY_HEADER = "X-SLA-Delivery"
ANSWER_BYTES_KEPT = 2000

_pool = urllib3.PoolManager(retries=False, headers={"User-Agent": USER_AGENT})


@dataclass
class Outcome:
    succeeded: bool
    status_code: int | None = None
    response_ms: int | None = None
    error: str = ""


def sign(secret, timestamp, body):
    """HMAC-SHA256 of ``"<timestamp>.<body>"`` with the endpoint's secret, as ``sha256=<hex>``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_headers(secret, body, event_type, delivery_key, timestamp=None):
    timestamp = str(int(time.time() if timestamp is None else timestamp))
    return {
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: delivery_key,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def post_json(url, body, headers=None):
    """POST ``body`` (bytes of JSON) to ``url``; a 2xx answer is a success."""
    try:
        HTTP_URL(url)  # http(s) only, whatever was stored
    except ValidationError:
        return Outcome(False, error=f"Not an http(s) URL: {url[:200]}")
    timeout = settings.OUTBOUND_TIMEOUT_SECONDS
    started = time.monotonic()
    try:
        response = _pool.request(
            "POST",
            url,
            body=body,
            headers={"Content-Type": "application/json", **(headers or {})},
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            redirect=False,
            preload_content=False,
        )
        try:
            answer = response.read(ANSWER_BYTES_KEPT, decode_content=True)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as error:
        return Outcome(False, None, _elapsed_ms(started), f"{type(error).__name__}: {error}"[:2000])
    elapsed = _elapsed_ms(started)
    if 200 <= response.status < 300:
        return Outcome(True, response.status, elapsed)
    if 300 <= response.status < 400:
        return Outcome(
            False, response.status, elapsed, f"Redirect to {response.headers.get('Location', '?')} not followed."
        )
    return Outcome(False, response.status, elapsed, answer.decode("utf-8", "replace")[:2000])


def send_email(message):
    """Send one ``EmailMultiAlternatives``; an SMTP or network error is a failure."""
    started = time.monotonic()
    try:
        message.send(fail_silently=False)
    except Exception as error:  # noqa: BLE001  (every backend error is a failed try, logged and retried)
        return Outcome(False, None, _elapsed_ms(started), f"{type(error).__name__}: {error}"[:2000])
    return Outcome(True, None, _elapsed_ms(started))


def _elapsed_ms(started):
    return round((time.monotonic() - started) * 1000)
