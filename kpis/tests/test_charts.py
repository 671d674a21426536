import datetime
from decimal import Decimal
from types import SimpleNamespace

from kpis.charts import measurement_chart


def test_sla_line_is_drawn_straight_between_the_real_points():
    sla = SimpleNamespace(frequency="monthly", expected=Decimal("80"), minimum=Decimal("75"))
    points = [
        SimpleNamespace(period_start=datetime.date(2026, month, 1), value=Decimal(v), outcome="met")
        for month, v in ((1, "90"), (2, "60"), (3, "90"))
    ]
    actual = measurement_chart(sla, points)["data"]["datasets"][0]
    assert actual["label"] == "Actual" and actual["tension"] == 0
