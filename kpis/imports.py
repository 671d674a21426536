"""Import KPI figures from CSV or XLSX: every row validated first, then all written or none.

Columns, in order: contract reference, KPI code, period start (YYYY-MM-DD), value. A first row
whose value column is not a number is taken as a header. Each problem is reported with the
file's line number and the reason; when there is any problem nothing is written.
"""

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from common.permissions import editable_contracts

from . import periods
from .choices import MeasurementSource, Unit
from .models import SLA, Measurement

MAX_ROWS = 50_000


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self):
        return f"Line {self.line}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)
    figures: set = field(default_factory=set)  # (sla_id, period_start) of each figure written

    @property
    def ok(self):
        return not self.errors


class ImportFileError(ValueError):
    pass


def read_rows(upload):
    """[(line number, [cells...])] from an uploaded .csv or .xlsx file; blank lines skipped."""
    name = (getattr(upload, "name", "") or "").lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(upload)
    raw = upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    for number, cells in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        if any(str(c).strip() for c in cells):
            rows.append((number, cells))
    return rows


def _read_xlsx(upload):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged file
        raise ImportFileError(f"This is not a readable XLSX workbook ({exc.__class__.__name__}).")
    sheet = workbook.worksheets[0]
    rows = []
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = ["" if c is None else c for c in cells]
        if any(str(c).strip() for c in cells):
            rows.append((number, cells))
    workbook.close()
    return rows


def _parse_date(cell):
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    text = str(cell).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


def _parse_value(cell):
    if isinstance(cell, int | float | Decimal) and not isinstance(cell, bool):
        return Decimal(str(cell)).quantize(Decimal("0.01"))
    text = str(cell).strip()
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _is_header(cells):
    return len(cells) >= 4 and _parse_value(cells[3]) is None and _parse_date(cells[2]) is None


def import_measurements(rows, user, source=MeasurementSource.IMPORT):
    """Validate every row, then (only when all are valid) write them in one transaction."""
    result = ImportResult()
    if rows and _is_header(rows[0][1]):
        rows = rows[1:]
    if not rows:
        result.errors.append(RowError(1, "The file has no data rows."))
        return result
    if len(rows) > MAX_ROWS:
        result.errors.append(RowError(rows[MAX_ROWS][0], f"More than {MAX_ROWS} rows; split the file."))
        return result

    references = {str(cells[0]).strip() for _, cells in rows if cells}
    from contracts.models import Contract

    contracts = {c.reference: c for c in Contract.objects.filter(reference__in=references)}
    writable = set(editable_contracts(user).filter(reference__in=references).values_list("pk", flat=True))
    slas_by_contract_kpi = {}
    for sla in SLA.objects.filter(contract__in=contracts.values(), active=True).select_related("kpi", "contract"):
        slas_by_contract_kpi.setdefault((sla.contract_id, sla.kpi.code), []).append(sla)

    parsed = []  # (line, sla, start, end, value)
    seen = {}
    for line, cells in rows:
        cells = list(cells) + [""] * (4 - len(cells))
        reference, code, start_cell, value_cell = (cells[0], cells[1], cells[2], cells[3])
        reference, code = str(reference).strip(), str(code).strip()
        problems = []
        contract = contracts.get(reference)
        if not reference:
            problems.append("the contract reference is empty")
        elif contract is None:
            problems.append(f"no contract with reference “{reference}”")
        elif contract.pk not in writable:
            problems.append(f"you may not enter figures for contract {reference} (not yours)")
        start = _parse_date(start_cell)
        if start is None:
            problems.append(f"“{start_cell}” is not a date (write YYYY-MM-DD)")
        value = _parse_value(value_cell)
        if value is None:
            problems.append(f"“{value_cell}” is not a number")
        sla = None
        if contract is not None and contract.pk in writable:
            candidates = slas_by_contract_kpi.get((contract.pk, code), [])
            if not code:
                problems.append("the KPI code is empty")
            elif not candidates:
                problems.append(f"contract {reference} has no active SLA for KPI “{code}”")
            elif start is not None:
                sla = next(
                    (
                        s
                        for s in candidates
                        if s.effective_from <= periods.period_end(s.frequency, start)
                        and (s.effective_to is None or s.effective_to >= start)
                    ),
                    None,
                )
                if sla is None:
                    problems.append(f"the SLA for “{code}” on {reference} is not in effect on {start:%Y-%m-%d}")
        if sla is not None and start is not None:
            aligned = periods.period_start(sla.frequency, start)
            if aligned != start:
                problems.append(
                    f"this SLA is reported {sla.get_frequency_display().lower()}: the period starts on "
                    f"{aligned:%Y-%m-%d}, not {start:%Y-%m-%d}"
                )
            if value is not None and value < 0:
                problems.append("a KPI figure cannot be negative")
            if value is not None and sla.kpi.unit == Unit.PERCENT and value > 100:
                problems.append(f"{sla.kpi.name} is a percentage: give a value between 0 and 100")
            if sla.kpi.is_computed:
                problems.append(f"{sla.kpi.name} is computed from the roster, not imported")
            key = (sla.pk, start)
            if key in seen:
                problems.append(f"the same SLA and period is already on line {seen[key]}")
            else:
                seen[key] = line
        if problems:
            result.errors.append(RowError(line, "; ".join(problems) + "."))
        else:
            parsed.append((line, sla, start, periods.period_end(sla.frequency, start), value))

    if result.errors:
        return result

    with transaction.atomic():
        existing = {
            (m.sla_id, m.period_start): m
            for m in Measurement.objects.select_for_update().filter(
                sla__in={p[1].pk for p in parsed}, period_start__in={p[2] for p in parsed}
            )
        }
        now = timezone.now()
        new, corrected = [], []
        for _line, sla, start, end, value in parsed:
            current = existing.get((sla.pk, start))
            if current is None:
                new.append(
                    Measurement(
                        sla=sla,
                        period_start=start,
                        period_end=end,
                        value=value,
                        source=source,
                        recorded_by=user,
                        recorded_at=now,
                    )
                )
            elif current.value != value:
                current.value, current.source, current.recorded_by, current.recorded_at = value, source, user, now
                current.updated_at = now  # auto_now is the ORM's save(); a bulk update sets it here
                corrected.append(current)
                result.updated += 1
            else:
                result.unchanged += 1
                continue
            result.figures.add((sla.pk, start))
        # In batches, each with its history rows, whatever the number of figures.
        if new:
            bulk_create_with_history(new, Measurement, batch_size=1000, default_user=user)
            result.created = len(new)
        if corrected:
            bulk_update_with_history(
                corrected,
                Measurement,
                ["value", "source", "recorded_by", "recorded_at", "updated_at"],
                batch_size=1000,
                default_user=user,
            )
    return result
