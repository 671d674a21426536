"""Production settings: every secret from the environment, HTTPS hardening on."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

# No defaults here: a production process that would fall back to a demo value refuses to start instead.
REQUIRED_ENVIRONMENT = {
    "SECRET_KEY": "a long random string (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')",  # nosec B105  # the help text for a missing SECRET_KEY, not a password
    "ALLOWED_HOSTS": "the host names the site is served on, comma separated",
    "EMAIL_URL": "where e-mail goes, e.g. smtp+tls://user:password@mail.example.com:587",
    "SITE_URL": "the absolute base URL used in e-mail links, e.g. https://sla.example.com",
}
_missing = [name for name in REQUIRED_ENVIRONMENT if not env.str(name, default="").strip()]
if _missing:
    raise ImproperlyConfigured(
        "Production settings (config.settings.production) need these environment variables: "
        + "; ".join(f"{name} ({REQUIRED_ENVIRONMENT[name]})" for name in _missing)
    )

DEBUG = False
IS_PRODUCTION = True  # seed_demo refuses to run unless --force
# Structured logs: JSON lines with the request id, and one line per request.
LOGGING["handlers"]["console"]["formatter"] = env.str("LOG_FORMAT", default="json")  # noqa: F405
LOGGING["loggers"]["sla.requests"]["level"] = env.str("LOG_REQUESTS_LEVEL", default="INFO")  # noqa: F405
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
EMAIL_CONFIG = env.email_url("EMAIL_URL")
vars().update(EMAIL_CONFIG)
SITE_URL = env.str("SITE_URL").rstrip("/")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The container's own health check asks over plain HTTP inside the host.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
