"""Print an HTML page to PDF with headless Chromium, offline.

The page is written to a temporary directory with its stylesheets inlined (no network, no login needed)
and printed with ``chromium --headless --print-to-pdf``; the page's print CSS sets A4.
"""

import os
import subprocess  # nosec B404  # runs only the configured Chromium binary, with a fixed argument list
import tempfile

from django.conf import settings
from django.contrib.staticfiles import finders


class PdfError(RuntimeError):
    pass


def inline_css(*static_paths):
    """The text of static stylesheets, for a ``<style>`` element of a standalone page."""
    parts = []
    for path in static_paths:
        found = finders.find(path)
        if found:
            with open(found, encoding="utf-8") as handle:
                parts.append(handle.read())
    return "\n".join(parts)


def html_to_pdf(html, timeout=None):
    """The PDF bytes of ``html``. Raises ``PdfError`` with a message for the user when Chromium is missing,
    fails or takes longer than ``PDF_TIMEOUT_SECONDS``."""
    chromium = settings.CHROMIUM_PATH
    if not chromium or not os.path.exists(chromium):
        raise PdfError(
            f"PDF download needs headless Chromium at {chromium or '(CHROMIUM_PATH unset)'}, which is not installed "
            "on this server. Print the page from the browser instead (File › Print › Save as PDF)."
        )
    timeout = timeout or settings.PDF_TIMEOUT_SECONDS
    with tempfile.TemporaryDirectory(prefix="qbr-") as work:
        source = os.path.join(work, "page.html")
        target = os.path.join(work, "page.pdf")
        with open(source, "w", encoding="utf-8") as handle:
            handle.write(html)
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={os.path.join(work, 'profile')}",
            f"--print-to-pdf={target}",
            "file://" + source,
        ]
        try:
            completed = subprocess.run(  # nosec B603  # fixed arguments, no shell; the HTML is our own render
                command, capture_output=True, timeout=timeout, check=False, cwd=work
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not finish the PDF within {timeout} seconds: try again later.")
        if completed.returncode != 0 or not os.path.exists(target):
            detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise PdfError(f"Chromium could not print the PDF ({detail[0][:200]}).")
        with open(target, "rb") as handle:
            return handle.read()
