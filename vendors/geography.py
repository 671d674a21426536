"""Where work is delivered relative to the home country: onshore, nearshore or offshore.

The neighbour table lists land borders plus the short sea crossings that the outsourcing
market treats as nearshore (e.g. UK–Ireland, US–Caribbean, Spain–Morocco). It is a small
table kept by hand: add a pair to ``_NEIGHBOUR_PAIRS`` when a new market matters.
"""

from itertools import chain

from .choices import SourcingModel

# fmt: off
_NEIGHBOUR_PAIRS = [
    # North and Central America, Caribbean
    ("US", "CA"), ("US", "MX"), ("US", "BS"), ("US", "CU"), ("US", "DO"), ("US", "JM"),
    ("US", "PR"), ("MX", "GT"), ("MX", "BZ"), ("GT", "BZ"), ("GT", "SV"), ("GT", "HN"),
    ("HN", "SV"), ("HN", "NI"), ("NI", "CR"), ("CR", "PA"), ("PA", "CO"), ("DO", "HT"),
    ("JM", "CU"), ("CA", "GL"),
    # South America
    ("CO", "VE"), ("CO", "EC"), ("CO", "PE"), ("CO", "BR"), ("EC", "PE"), ("PE", "BR"),
    ("PE", "BO"), ("PE", "CL"), ("BO", "BR"), ("BO", "PY"), ("BO", "AR"), ("BO", "CL"),
    ("CL", "AR"), ("AR", "PY"), ("AR", "BR"), ("AR", "UY"), ("UY", "BR"), ("PY", "BR"),
    ("VE", "BR"), ("VE", "GY"), ("GY", "BR"), ("GY", "SR"), ("SR", "BR"),
    # Europe
    ("GB", "IE"), ("GB", "FR"), ("GB", "NL"), ("GB", "BE"), ("FR", "BE"), ("FR", "LU"),
    ("FR", "DE"), ("FR", "CH"), ("FR", "IT"), ("FR", "ES"), ("FR", "AD"), ("FR", "MC"),
    ("ES", "PT"), ("ES", "AD"), ("ES", "MA"), ("BE", "NL"), ("BE", "DE"), ("BE", "LU"),
    ("NL", "DE"), ("DE", "LU"), ("DE", "DK"), ("DE", "PL"), ("DE", "CZ"), ("DE", "AT"),
    ("DE", "CH"), ("CH", "AT"), ("CH", "IT"), ("CH", "LI"), ("AT", "IT"), ("AT", "CZ"),
    ("AT", "SK"), ("AT", "HU"), ("AT", "SI"), ("IT", "SI"), ("IT", "MT"), ("PL", "CZ"),
    ("PL", "SK"), ("PL", "UA"), ("PL", "BY"), ("PL", "LT"), ("CZ", "SK"), ("SK", "HU"),
    ("SK", "UA"), ("HU", "UA"), ("HU", "RO"), ("HU", "RS"), ("HU", "HR"), ("HU", "SI"),
    ("SI", "HR"), ("HR", "BA"), ("HR", "RS"), ("HR", "ME"), ("BA", "RS"), ("BA", "ME"),
    ("RS", "ME"), ("RS", "RO"), ("RS", "BG"), ("RS", "MK"), ("RS", "XK"), ("ME", "AL"),
    ("AL", "MK"), ("AL", "GR"), ("MK", "GR"), ("MK", "BG"), ("BG", "RO"), ("BG", "GR"),
    ("BG", "TR"), ("GR", "TR"), ("RO", "UA"), ("RO", "MD"), ("MD", "UA"), ("UA", "BY"),
    ("LT", "LV"), ("LV", "EE"), ("EE", "FI"), ("FI", "SE"), ("FI", "NO"), ("SE", "NO"),
    ("SE", "DK"), ("DK", "NO"), ("IS", "NO"), ("GB", "IS"),
    # Africa and the Middle East
    ("ZA", "NA"), ("ZA", "BW"), ("ZA", "ZW"), ("ZA", "MZ"), ("ZA", "LS"), ("ZA", "SZ"),
    ("KE", "UG"), ("KE", "TZ"), ("KE", "ET"), ("UG", "RW"), ("RW", "TZ"), ("EG", "SD"),
    ("EG", "LY"), ("EG", "IL"), ("EG", "JO"), ("MA", "DZ"), ("DZ", "TN"), ("TN", "LY"),
    ("NG", "GH"), ("NG", "BJ"), ("GH", "CI"), ("GH", "TG"), ("SN", "ML"), ("AE", "SA"),
    ("AE", "OM"), ("SA", "JO"), ("SA", "QA"), ("SA", "BH"), ("SA", "KW"), ("JO", "IL"),
    ("TR", "GE"), ("GE", "AM"),
    # Asia and Oceania
    ("IN", "PK"), ("IN", "NP"), ("IN", "BD"), ("IN", "LK"), ("IN", "BT"), ("IN", "CN"),
    ("IN", "MM"), ("BD", "MM"), ("CN", "VN"), ("CN", "HK"), ("CN", "MO"), ("CN", "MN"),
    ("CN", "KR"), ("CN", "TW"), ("KR", "JP"), ("JP", "TW"), ("TW", "PH"), ("PH", "MY"),
    ("PH", "ID"), ("MY", "SG"), ("MY", "TH"), ("MY", "ID"), ("SG", "ID"), ("TH", "KH"),
    ("TH", "LA"), ("TH", "MM"), ("VN", "KH"), ("VN", "LA"), ("KH", "LA"), ("AU", "NZ"),
    ("AU", "PG"), ("ID", "PG"), ("ID", "TL"), ("AU", "TL"),
]
# fmt: on

NEIGHBOURS: dict[str, frozenset[str]] = {
    country: frozenset(
        {b for a, b in _NEIGHBOUR_PAIRS if a == country} | {a for a, b in _NEIGHBOUR_PAIRS if b == country}
    )
    for country in set(chain.from_iterable(_NEIGHBOUR_PAIRS))
}


def are_neighbours(country_a: str, country_b: str) -> bool:
    return country_b.upper() in NEIGHBOURS.get(country_a.upper(), frozenset())


def suggest_sourcing_model(delivery_country: str, home_country: str) -> str:
    """Same country → onshore; neighbouring country → nearshore; anywhere else → offshore."""
    delivery_country, home_country = str(delivery_country).upper(), str(home_country).upper()
    if delivery_country == home_country:
        return SourcingModel.ONSHORE
    if are_neighbours(delivery_country, home_country):
        return SourcingModel.NEARSHORE
    return SourcingModel.OFFSHORE
