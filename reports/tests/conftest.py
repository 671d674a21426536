import pytest


@pytest.fixture(autouse=True)
def _admin_only_urls(settings):
    settings.ROOT_URLCONF = "reports.tests.urls"
