import pytest

from vendors.geography import NEIGHBOURS, suggest_sourcing_model


@pytest.mark.parametrize(
    ("delivery", "home", "expected"),
    [
        ("US", "US", "onshore"),
        ("us", "US", "onshore"),
        ("MX", "US", "nearshore"),
        ("CA", "US", "nearshore"),
        ("PH", "US", "offshore"),
        ("IN", "US", "offshore"),
        ("PL", "DE", "nearshore"),
        ("IE", "GB", "nearshore"),
        ("ZA", "GB", "offshore"),
        ("CO", "PA", "nearshore"),
    ],
)
def test_sourcing_model_from_delivery_and_home_country(delivery, home, expected):
    assert suggest_sourcing_model(delivery, home) == expected


def test_neighbour_table_is_symmetric():
    for country, neighbours in NEIGHBOURS.items():
        for other in neighbours:
            assert country in NEIGHBOURS[other], (country, other)
