"""Requests per API key (``API_THROTTLE_RATE``, e.g. ``600/min``): over it, 429 with ``Retry-After``."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self):
        return settings.API_THROTTLE_RATE  # read per request, so tests (and settings) can change it

    def get_cache_key(self, request, view):
        key = getattr(request, "auth", None)
        if key is None or not getattr(key, "pk", None):
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": f"key-{key.pk}"}
