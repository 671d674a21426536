import pytest

from tests.factories import ContractFactory, UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin_user", is_superuser=True, is_staff=True)


@pytest.fixture
def owner(db):
    """A manager who owns ``contract``."""
    return UserFactory(username="owner", role="manager")


@pytest.fixture
def teammate(db):
    """Another manager: reads everything, owns nothing here."""
    return UserFactory(username="teammate", role="manager")


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer_user", role="viewer")


@pytest.fixture
def contract(owner):
    return ContractFactory(owner=owner)


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://testserver"
