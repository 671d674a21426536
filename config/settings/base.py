"""Settings shared by every environment. Values come from the environment (django-environ)."""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env", overwrite=False)
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

# local.py and test.py set a default; production.py refuses to start without one.
SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The organisation's own country (ISO 3166 alpha-2): decides onshore / nearshore / offshore.
HOME_COUNTRY = env.str("HOME_COUNTRY", default="US").upper()
# The currency totals over several contract currencies are converted to (ISO 4217), at the month's rate
# kept in ``contracts.ExchangeRate`` (checked by ``contracts.checks``).
REPORTING_CURRENCY = env.str("REPORTING_CURRENCY", default="USD").upper()
# Hooks through which the governance app plugs into lower apps without them importing it: the scorecard's
# weights and bands kept by admins (reports.queries.scoring_policy), and extra sections of the weekly digest
# (kpis.digest.extra_sections: callables (a DigestScope: a batch of digests) → {owner id or ALL_VENDORS: section})
# and who gets a digest for them alone (kpis.digest.owners_with_sections: callables (today) → owner ids).
SCORECARD_POLICY_PROVIDER = "governance.scoring.current_policy"
DIGEST_SECTIONS = ["governance.digest.overdue_actions_sections"]
DIGEST_RECIPIENTS = ["governance.digest.owners_with_overdue_actions"]
# Headless Chromium, which prints the quarterly business review to PDF (governance.pdf).
CHROMIUM_PATH = env.str("CHROMIUM_PATH", default="/usr/bin/chromium")
PDF_TIMEOUT_SECONDS = env.int("PDF_TIMEOUT_SECONDS", default=60)
# Absolute base URL used for links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "axes",
    "csp",
    "django_countries",
    "django_filters",
    "django_tables2",
    "simple_history",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "common",
    "accounts",
    "vendors",
    "contracts",
    "kpis",
    "governance",
    "access",  # the one access policy, above the domain apps
    "dashboard",
    "reports",
    "health",
    "api",
    "outbound",  # webhooks and chat alerts: above the domain, follows the engine through its signal
    "demo",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS
# Only the local and test settings add the benchmark app (``bench``: seed_scale, run_bench), never production.
DEV_ONLY_APPS = ["bench"]
# True only in config.settings.production: ``seed_demo`` refuses to run there unless given --force.
IS_PRODUCTION = False

MIDDLEWARE = [
    "common.logs.RequestIdMiddleware",  # first: every response and log line of a request carries its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "common.security.PermissionsPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout page
]

# Content-Security-Policy (django-csp): scripts only from our own static files, never inline (data for
# scripts travels in <script type="application/json"> from json_script, which is not executed). Inline
# style attributes stay allowed (a few templates and the Django admin use them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (common.security.PermissionsPolicyMiddleware): browser features no page here needs.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process, worker and beat share the embedded file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed sign-ins, that user name and, separately,
# that client address are refused for AXES_COOLOFF_TIME, on /accounts/login/ and /admin/login/ alike.
# Admins lift a lock by deleting its row under Admin › Axes › Access attempts (or `manage.py axes_reset`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses while locked out
    # ModelBackend, answering for what the policy does not cover (auth users and groups, axes): signs in.
    "access.backends.NonPolicyModelBackend",
    "rules.permissions.ObjectPermissionBackend",  # the access policy (access/rules.py): objects and models
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "common.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "common.security.client_ip"
# Reverse proxies in front of the app that append to X-Forwarded-For (0: clients connect directly).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# ISO dates in the admin and the app alike. Django 5 always localizes, so the formats of the active language
# come from its locale module: ours (config/formats/en/formats.py) before Django's. The settings below are
# the same values for any language without a module of its own.
FORMAT_MODULE_PATH = ["config.formats"]
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url_config(env.str("EMAIL_URL", default="") or "consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SLA Tracker <sla-tracker@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Celery -----------------------------------------------------------------------------
# Default: kombu's filesystem transport, an embedded broker that needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    for _sub in ("queue", "control", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
# Tasks are acknowledged late (after they finish), so a task whose worker dies is delivered again.
# Time limits: the longest job (a full breach check on the large benchmark, bench/RESULTS.md) takes
# seconds; ten minutes is ample, and no task may set a longer one (tests/test_celery_config.py).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 8 * 60
# Redis hands an unacknowledged message to another worker only after the visibility timeout (kombu's
# default: an hour). Just above the longest time limit: a running task has been killed by then, so a
# check lost with its worker runs again within minutes and a live one is never delivered twice.
if not CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 2 * 60}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# The queue tasks go to unless routed (Celery's default "celery"); the worker tests give each worker its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Publishing never holds a request for long: a broker that accepts the connection and never answers
# costs at most a couple of seconds (no publish retries; bounded connect and socket timeouts). The check
# is already owed in the database (``kpis.pending``); the sweep below runs it when the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_MAX_RETRIES = 1
if not CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_timeout": 2, "socket_connect_timeout": 2, "max_retries": 1})
CELERY_BEAT_SCHEDULE = {
    "run-pending-checks-every-minute": {  # checks owed after changes whose message was lost
        "task": "kpis.tasks.run_pending_checks",
        "schedule": 60.0,
    },
    "detect-breaches-hourly": {
        "task": "kpis.tasks.detect_breaches",
        "schedule": crontab(minute=5),
    },
    "refresh-report-summaries-hourly": {  # also after every breach check; this catches staff and status edits
        "task": "reports.tasks.refresh_summaries",
        "schedule": crontab(minute=35),
    },
    "check-replacement-obligations-hourly": {
        "task": "contracts.tasks.check_replacement_obligations",
        "schedule": crontab(minute=10),
    },
    "compute-attrition-monthly": {
        "task": "kpis.tasks.compute_attrition",
        "schedule": crontab(minute=30, hour=1, day_of_month=1),
    },
    "check-renewals-daily": {
        "task": "contracts.tasks.check_renewals",
        "schedule": crontab(minute=0, hour=6),
    },
    "send-weekly-breach-digest": {
        "task": "kpis.tasks.send_weekly_breach_digest",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    },
    "outbound-dispatch-every-minute": {  # webhook / alert events a lost message left, and retries lost
        "task": "outbound.tasks.dispatch_events",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "beat-heartbeat": {  # /health/ reports how long ago beat last ticked
        "task": "health.tasks.beat_heartbeat",
        "schedule": 60.0,
        "options": {"expires": 50},  # a tick queued while no worker ran says nothing about beat now
    },
}

# /health/: how stale a heartbeat may be before the check fails (seconds), and the broker's connect timeout.
# The full breach check runs hourly at :05 and may take up to its 10-minute limit.
HEALTH_BREACH_CHECK_MAX_AGE_SECONDS = env.int("HEALTH_BREACH_CHECK_MAX_AGE_SECONDS", default=2 * 60 * 60)
HEALTH_BEAT_MAX_AGE_SECONDS = env.int("HEALTH_BEAT_MAX_AGE_SECONDS", default=5 * 60)
HEALTH_BROKER_TIMEOUT_SECONDS = env.float("HEALTH_BROKER_TIMEOUT_SECONDS", default=2.0)

# --- Outbound webhooks and chat alerts (the ``outbound`` app) ----------------------------------------
# Each try waits at most this long to connect and as long again for the answer; redirects are not followed.
OUTBOUND_TIMEOUT_SECONDS = env.float("OUTBOUND_TIMEOUT_SECONDS", default=5.0)
# A failed delivery is tried again after 1, 2, 4 … times this (at most 10 minutes), OUTBOUND_MAX_ATTEMPTS in all.
OUTBOUND_RETRY_BACKOFF_SECONDS = env.float("OUTBOUND_RETRY_BACKOFF_SECONDS", default=30.0)
OUTBOUND_MAX_ATTEMPTS = env.int("OUTBOUND_MAX_ATTEMPTS", default=8)

# --- API (/api/v1/, the ``api`` app) ---------------------------------------------------------
# Bearer keys only (no session: nothing under /api/ needs CSRF); errors always {"detail": ..., ["errors": ...]}.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# The cache holds the API's per-key request counts: one shared Redis cache (CACHE_URL=redis://…) makes every
# web worker count against the same limit; the default, a per-process memory cache, counts per worker.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Pages keep their rendered content in that cache until the data changes (``common.page_cache``); off: every
# request renders (the benchmark's page timings measure that).
PAGE_CACHE = env.bool("PAGE_CACHE", default=True)
# Requests per key (each key counted on its own, in the cache above).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "SLA tracker API",
    "DESCRIPTION": (
        "Vendors push KPI figures and roster changes; integrations read contracts, SLAs, figures, breaches, "
        "staff and replacement obligations. Authenticate with `Authorization: Bearer <key>`. Every error is "
        '`{"detail": "...", "errors": {...}}` (`errors` only on validation failures).'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN, and no inline script (CSP)
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_error_responses",  # every error status, in the one error shape
    ],
    # A corrective action's status is read and written by two components: one name for its enum.
    "ENUM_NAME_OVERRIDES": {"ActionStatusEnum": "governance.choices.ActionStatus"},
}

DJANGO_TABLES2_TEMPLATE = "common/table.html"  # bootstrap5-responsive, rows in one pass
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}

# Logs: one line per record on stderr, each with the request id (common.logs). LOG_FORMAT=json (the
# production default) writes JSON objects; the request log ("sla.requests", one line per request) is on
# in production, where gunicorn writes no access log of its own.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "common.logs.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "sla.requests": {"level": env.str("LOG_REQUESTS_LEVEL", default="WARNING")},
        "axes": {"level": "WARNING"},  # lockouts and failed sign-ins, not a line per successful one
    },
}
# The worker logs through LOGGING above (JSON in production) instead of replacing the root handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Errors to Sentry, only when SENTRY_DSN is set (no personal data sent).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
