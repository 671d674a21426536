"""Validators shared by the apps' model fields (so the app's forms, the admin and ``full_clean`` all get
them) and by the imports, which check rows without a form.

Plausible dates: a contract, SLA, roster or KPI date typed as ``0026-01-01`` (for 2026) or
``9999-12-01`` is accepted by a date field, and the breach engine then finds thousands of "missing"
reports or a period decades ahead. Every business date must fall between ``EARLIEST_PLAUSIBLE_DATE``
and ten years after today. The lower bound is fixed, so the database enforces it too
(``plausible_date_constraint``); the upper one moves with today, so it is checked in Python only.

Free text: ``TextField(max_length=...)`` is enforced by forms only; ``text_length_constraint`` backs it
in the database.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

EARLIEST_PLAUSIBLE_DATE = datetime.date(2000, 1, 1)
PLAUSIBLE_YEARS_AHEAD = 10

# Caps for free text people type: a note on one figure, and longer notes / descriptions.
SHORT_TEXT_MAX_LENGTH = 2_000
LONG_TEXT_MAX_LENGTH = 10_000


def latest_plausible_date(today: datetime.date | None = None) -> datetime.date:
    """Ten years after ``today`` (29 February → 28 February)."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + PLAUSIBLE_YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + PLAUSIBLE_YEARS_AHEAD, day=28)


def plausible_date_error(value: datetime.date, today: datetime.date | None = None) -> str | None:
    """Why ``value`` cannot be a date anyone meant, or None when it is plausible."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    latest = latest_plausible_date(today)
    if EARLIEST_PLAUSIBLE_DATE <= value <= latest:
        return None
    return (
        f"{value.isoformat()} is not a plausible date: enter one between "
        f"{EARLIEST_PLAUSIBLE_DATE.isoformat()} and {latest.isoformat()} (check the year)."
    )


def validate_plausible_date(value):
    """Model field validator: 2000-01-01 to ten years after today."""
    if value is None:
        return
    message = plausible_date_error(value)
    if message:
        raise ValidationError(message, code="implausible_date", params={"value": value})


PLAUSIBLE_DATE = [validate_plausible_date]


def plausible_date_constraint(name: str, *fields: str, nullable: tuple[str, ...] = ()) -> models.CheckConstraint:
    """A CHECK that each of ``fields`` is on or after 2000-01-01 (those in ``nullable`` may be NULL)."""
    condition = models.Q()
    for field in fields:
        check = models.Q(**{f"{field}__gte": EARLIEST_PLAUSIBLE_DATE})
        if field in nullable:
            check |= models.Q(**{f"{field}__isnull": True})
        condition &= check
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=f"Dates before {EARLIEST_PLAUSIBLE_DATE.isoformat()} are not accepted.",
    )


def capped_text(max_length: int) -> dict:
    """``TextField(blank=True, **capped_text(N))``: the form field's ``maxlength`` and its check (from
    ``max_length``), and the model's own check in ``full_clean`` (a TextField has none by itself)."""
    return {"max_length": max_length, "validators": [MaxLengthValidator(max_length)]}


def text_length_constraint(name: str, field: str, max_length: int) -> models.CheckConstraint:
    """A CHECK that the text ``field`` holds at most ``max_length`` characters."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), max_length),
        name=name,
        violation_error_message=f"Keep the {field.replace('_', ' ')} under {max_length:,} characters.",
    )


def implausible_rows(apps, model_label: str, date_fields: list[str]):
    """Migration helper: ``(pk, field, value)`` of existing rows a plausible-date constraint would refuse."""
    model = apps.get_model(model_label)
    found = []
    for field in date_fields:
        rows = model.objects.filter(**{f"{field}__lt": EARLIEST_PLAUSIBLE_DATE}).values_list("pk", field)[:20]
        found.extend((pk, field, value) for pk, value in rows)
    return found


def refuse_implausible_rows(checks: dict[str, list[str]]):
    """A ``RunPython`` function for a migration that adds plausible-date constraints: when existing rows
    hold dates before 2000-01-01 it stops with the list of them (to correct first), instead of the
    database's bare "check constraint is violated by some row"."""

    def run(apps, schema_editor):
        problems = []
        for model_label, fields in checks.items():
            problems.extend(
                f"{model_label} #{pk}: {field} = {value.isoformat()}"
                for pk, field, value in implausible_rows(apps, model_label, fields)
            )
        if problems:
            raise RuntimeError(
                f"Rows with dates before {EARLIEST_PLAUSIBLE_DATE.isoformat()} (typos such as 0026 for 2026?) "
                "must be corrected before this migration:\n  " + "\n  ".join(problems)
            )

    return run


def refuse_overlong_text(checks: dict[str, dict[str, int]]):
    """A ``RunPython`` function for a migration that adds text-length constraints: when existing rows hold
    longer text it stops with the list of them (to shorten first) instead of a bare constraint error."""

    def run(apps, schema_editor):
        problems = []
        for model_label, fields in checks.items():
            model = apps.get_model(model_label)
            for field, max_length in fields.items():
                rows = (
                    model.objects.annotate(_length=Length(field))
                    .filter(_length__gt=max_length)
                    .values_list("pk", "_length")[:20]
                )
                problems.extend(f"{model_label} #{pk}: {field} holds {n:,} characters" for pk, n in rows)
        if problems:
            raise RuntimeError(
                "Rows with text longer than the new limits must be shortened before this migration:\n  "
                + "\n  ".join(problems)
            )

    return run
