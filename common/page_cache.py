"""Pages whose content block is served from the cache while the data has not changed.

A page's ``{% block content %}`` is rendered once per data version (``common.data_version``: it changes with
every commit that wrote), user, URL, time zone and day, and kept in the default cache; the rest of the page
(navigation, messages, the CSRF token of the log-out form) is rendered for each request. The key holds the
data version, so nothing is ever invalidated: a write moves the version and the next request renders anew.
Not cached: a transaction that has written (its own rows are not committed), a content block holding a CSRF
token (it belongs to one browser), and every answer but a rendered 200.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.safestring import mark_safe

from . import data_version

# Markers around the content block (``templates/base.html``) while a page is rendered for the cache.
START, END = "<!--cached-content-->", "<!--/cached-content-->"
TIMEOUT = 15 * 60  # entries of a superseded version are never read again: let them expire


def cache_key(request, *parts):
    """The key of ``request``'s content block, or None when it must not be cached."""
    if not settings.PAGE_CACHE:
        return None
    version = data_version.current()
    if version is None:
        return None
    text = "\n".join(
        str(part)
        for part in (
            version,
            request.user.pk,
            request.get_full_path(),
            timezone.get_current_timezone_name(),
            timezone.localdate(),
            *parts,
        )
    )
    return "page-content:" + hashlib.sha256(text.encode()).hexdigest()


def extract(html):
    """The content block of a page rendered with the markers, and the page without them."""
    start = html.find(START)
    end = html.find(END, start)
    if start < 0 or end < 0:
        return None, html
    content = html[start + len(START) : end]
    return content, html[:start] + content + html[end + len(END) :]


class CachedContentMixin:
    """For a ``TemplateResponseMixin`` view answering GET: its content block from the cache when it can be.

    ``cached_page_context()`` is the context the rest of the page needs (its title) without the content's
    queries."""

    def content_cache_parts(self):
        """What else the content depends on (besides data, user, URL, time zone, day); None: not cached."""
        return ()

    def cached_page_context(self):
        return {}

    def get(self, request, *args, **kwargs):
        parts = self.content_cache_parts()
        key = None if parts is None else cache_key(request, type(self).__qualname__, *parts)
        if key is None:
            return super().get(request, *args, **kwargs)
        content = cache.get(key)
        if content is not None:
            return self.render_to_response({**self.cached_page_context(), "cached_content": mark_safe(content)})  # nosec B703 B308  # our own rendered HTML
        response = super().get(request, *args, **kwargs)
        if response.status_code != 200 or not hasattr(response, "render"):
            return response
        response.context_data["cache_content"] = True
        response.render()
        content, page = extract(response.content.decode(response.charset))
        if content is not None:
            response.content = page
            if "csrfmiddlewaretoken" not in content:
                cache.set(key, content, TIMEOUT)
        return response
