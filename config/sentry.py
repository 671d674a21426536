"""Sentry error reporting, switched on by the ``SENTRY_DSN`` environment variable (see settings/base.py)."""


def init_sentry(dsn, environment, traces_sample_rate=0.0):
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no user names, e-mail addresses, cookies or IPs
    )
