"""Import KPI figures from CSV or XLSX: every row validated first, then all written or none.

Columns, in order: contract reference, KPI code, period start (YYYY-MM-DD), value. A first row
whose value column is not a number is taken as a header. Each problem is reported with the
file's line number and the reason; when there is any problem nothing is written.

Which periods take a figure is ``kpis.recording``'s rule, the one the KPI entry form applies. Values
are held to what the form accepts: finite, at most 2 decimal places, within the column's 14 digits.

Reading is bounded whatever the file claims: CSV is decoded from UTF-8 (with or without BOM), UTF-16
(BOM, or NUL bytes that give it away) or Windows-1252 / Latin-1, and binary data is refused; an XLSX
workbook is refused when its parts unpack to more than ``XLSX_MAX_UNPACKED_BYTES``, is read as a
stream (the sheet's declared dimension is ignored, both ways: a sheet declaring a million rows costs
only the rows it has, and rows past a dimension that is too small are still read), and reading stops
at ``MAX_ROWS`` + 1 rows or after ``READ_SECONDS``.
"""

import codecs
import csv
import datetime
import io
import math
import re
import time
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from common import sql
from common.validators import SHORT_TEXT_MAX_LENGTH, plausible_date_error
from contracts.models import Contract

from . import periods, recording
from .choices import MeasurementSource, Unit
from .models import SLA, Measurement

MAX_ROWS = 50_000
MAX_ERRORS_SHOWN = 200
READ_SECONDS = 10.0  # the most a file may take to read: well within gunicorn's 30 s worker timeout
XLSX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # a 50,000-row sheet unpacks to about 10 MB
COLUMNS = 4
CENTS = Decimal("0.01")
MAX_VALUE = Decimal("999999999999.99")  # Measurement.value: max_digits=14, decimal_places=2
ACCEPTED_ENCODINGS = "UTF-8, UTF-16 or Windows-1252 / Latin-1"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97–2003 .xls


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

    @property
    def shown_errors(self):
        """The first ``MAX_ERRORS_SHOWN`` errors: a page of 50,000 would help nobody."""
        return self.errors[:MAX_ERRORS_SHOWN]

    @property
    def more_errors(self):
        return max(0, len(self.errors) - MAX_ERRORS_SHOWN)


class ImportFileError(ValueError):
    pass


def read_rows(upload, deadline_seconds=None):
    """[(line number, [cells...])] from an uploaded .csv or .xlsx file; blank lines skipped.

    Raises ``ImportFileError`` with a message for the file field when the file cannot be read. At most
    ``MAX_ROWS`` + 1 rows are returned: enough for ``import_measurements`` to say the file is too long.
    """
    deadline = time.monotonic() + (READ_SECONDS if deadline_seconds is None else deadline_seconds)
    name = (getattr(upload, "name", "") or "").lower()
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(_OLE2_MAGIC):
        raise ImportFileError("This is an Excel 97–2003 (.xls) file: save it as .xlsx or CSV and upload that.")
    if name.endswith(".xlsx") or head.startswith(_ZIP_MAGIC):
        return _read_xlsx(upload, deadline)
    return _read_csv(upload.read(), deadline)


def decode_text(raw: bytes) -> str:
    """The text of a CSV file: UTF-8 (BOM or not), UTF-16 / UTF-32 (BOM, or NUL bytes giving UTF-16
    away), else Windows-1252, else Latin-1. Binary data raises ``ImportFileError``."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16 LE's
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            try:
                return _text_only(raw.decode(encoding))
            except UnicodeDecodeError:
                raise ImportFileError(f"The file starts like {encoding.upper()} text but is not: save it as CSV again.")
    sample = raw[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") * 4 >= len(sample):
        # ASCII text in UTF-16 without a BOM: every other byte is NUL.
        encoding = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        try:
            return _text_only(raw.decode(encoding))
        except UnicodeDecodeError:
            pass  # not UTF-16 after all: binary, refused below
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return _text_only(raw.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise AssertionError("Latin-1 decodes any bytes")  # pragma: no cover


def _text_only(text: str) -> str:
    """``text`` when it is text; control characters (NUL, C0 / C1 other than tab and line ends) mean a
    binary file, or one in an encoding not read here."""
    match = _CONTROL.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise ImportFileError(
            f"This is not a text (CSV) file: line {line} holds the control character "
            f"U+{ord(match.group()):04X}. Upload CSV text in {ACCEPTED_ENCODINGS}, or an XLSX workbook."
        )
    return text


def _read_csv(raw, deadline):
    text = decode_text(raw)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for cells in reader:
            if any(str(c).strip() for c in cells):
                rows.append((reader.line_num, cells))
                if len(rows) > MAX_ROWS:
                    break
            if time.monotonic() > deadline:
                raise ImportFileError("The file took too long to read: split it into smaller files.")
    except csv.Error as exc:
        raise ImportFileError(f"Line {max(reader.line_num, 1)} cannot be read as CSV ({exc}).")
    return rows


def _read_xlsx(upload, deadline):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(upload) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ImportFileError("This is not a readable XLSX workbook (not a ZIP archive).")
    if unpacked > XLSX_MAX_UNPACKED_BYTES:
        raise ImportFileError(
            f"This workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, more than "
            f"{XLSX_MAX_UNPACKED_BYTES // 1024 // 1024} MB: it cannot hold only {MAX_ROWS:,} rows of figures. "
            "Save the sheet with just the four columns, or as CSV."
        )
    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged file
        raise ImportFileError(f"This is not a readable XLSX workbook ({exc.__class__.__name__}).")
    rows = []
    line = 0
    try:
        if not workbook.worksheets:
            raise ImportFileError("This workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        # read_only trusts the sheet's <dimension>: a false "A1:D1000000" would pad a million empty rows
        # (and a too small one would drop the rows past it). Every row the sheet holds is read, no other.
        sheet.reset_dimensions()
        for line, cells in enumerate(sheet.iter_rows(max_col=COLUMNS, values_only=True), start=1):
            if time.monotonic() > deadline:
                raise ImportFileError(
                    f"The workbook took too long to read (stopped at row {line:,}): "
                    f"keep to {MAX_ROWS:,} rows, or save it as CSV."
                )
            cells = ["" if c is None else c for c in cells]
            if any(str(c).strip() for c in cells):
                rows.append((line, cells))
                if len(rows) > MAX_ROWS:
                    break
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged sheet: bad XML, a date out of range…
        raise ImportFileError(f"Row {line + 1:,} of the workbook cannot be read ({exc.__class__.__name__}).")
    finally:
        workbook.close()
    return rows


def _show(cell, limit=40):
    """A cell as quoted in a message: shortened when long."""
    text = str(cell).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_date(cell):
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    text = str(cell).strip()
    if len(text) > 10:
        return None
    if _ISO_DATE.fullmatch(text):  # the usual case, ten times faster than strptime: an API push has 10,000
        try:
            return datetime.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


def parse_value(cell):
    """``(value, None)`` for a figure the form would take, else ``(None, the reason)``.

    Finite, within the column (at most 999,999,999,999.99) and with at most 2 decimal places: 0.004 is
    refused, as the form refuses it, not stored as 0.00. A spreadsheet's float is read to the 15
    significant digits Excel shows (0.1 + 0.2 is 0.3, not 0.30000000000000004).
    """
    if isinstance(cell, bool):
        return None, f"“{cell}” is not a number"
    if isinstance(cell, float):
        if not math.isfinite(cell):
            return None, f"“{cell}” is not a finite number"
        value = Decimal(repr(cell))
        if abs(value) <= MAX_VALUE and value != value.quantize(CENTS):
            value = Decimal(format(cell, ".15g"))
    elif isinstance(cell, int | Decimal):
        value = Decimal(cell)
    else:
        text = str(cell).strip()
        if not text:
            return None, "the value is empty"
        try:
            if "_" in text:
                raise ValueError("Decimal() reads 1_000 as 1000; a figure in a file should not")
            value = Decimal(text)
        except (InvalidOperation, ValueError):
            return None, f"“{_show(text)}” is not a number"
    if not value.is_finite():
        return None, f"“{_show(cell)}” is not a finite number"
    if abs(value) > MAX_VALUE:
        return None, f"“{_show(cell)}” is too large: a figure can be at most 999,999,999,999.99"
    if value != value.quantize(CENTS):
        return None, f"“{_show(cell)}” has more than 2 decimal places: round it to 2"
    return value.quantize(CENTS), None


def _is_header(cells):
    return len(cells) >= 4 and parse_value(cells[3])[0] is None and _parse_date(cells[2]) is None


def _choose_sla(candidates, start):
    """The SLA among ``candidates`` (same contract and KPI) in effect in the period containing ``start``;
    when none is, the one closest before it (or the first) so the message says why."""
    if len(candidates) == 1:
        return candidates[0]
    for sla in candidates:
        period_start, period_end = periods.period_bounds(sla.frequency, start)
        if sla.effective_from <= period_end and (sla.effective_to is None or sla.effective_to >= period_start):
            return sla
    before = [s for s in candidates if s.effective_from <= start]
    return max(before, key=lambda s: s.effective_from) if before else min(candidates, key=lambda s: s.effective_from)


@dataclass
class FigureRow:
    """One figure to record, as it came in: ``key`` names it in messages (a file's line number, an API
    item's index); ``note`` None leaves an existing figure's note as it is."""

    key: int
    reference: object
    code: object
    period_start: object
    value: object
    note: object = None


@dataclass
class CheckedFigures:
    parsed: list = field(default_factory=list)  # (key, sla, start, end, value, note) of each valid row
    errors: list = field(default_factory=list)  # RowError for each invalid row
    forbidden: list = field(default_factory=list)  # keys of rows for a contract the caller may not write


def import_measurements(rows, user, source=MeasurementSource.IMPORT, today=None):
    """Validate every row of a file, then (only when all are valid) write them in one transaction."""
    result = ImportResult()
    if rows and _is_header(rows[0][1]):
        rows = rows[1:]
    if not rows:
        result.errors.append(RowError(1, "The file has no data rows."))
        return result
    if len(rows) > MAX_ROWS:
        result.errors.append(RowError(rows[MAX_ROWS][0], f"More than {MAX_ROWS:,} rows; split the file."))
        return result
    figures = []
    for line, cells in rows:
        cells = list(cells) + [""] * (COLUMNS - len(cells))
        figures.append(FigureRow(line, *cells[:COLUMNS]))
    references = {str(f.reference).strip() for f in figures}
    # The access policy decides which contracts' figures this user may write (access/rules.py).
    writable = set(
        Contract.objects.restrict(user, "change").filter(reference__in=references).values_list("pk", flat=True)
    )
    checked = check_figures(figures, lambda contract: contract.pk in writable, today=today, refer_to="line")
    if checked.errors:
        result.errors = checked.errors
        return result
    return write_figures(checked.parsed, user=user, source=source)


def check_figures(figures, may_record, today=None, refer_to="line"):
    """Validate every ``FigureRow``: the one rule for what may be recorded (the KPI entry form's, through
    ``kpis.recording``), with values held to what the form takes. ``may_record(contract)`` is the
    caller's permission; ``refer_to`` names a key in "already on line 3" ("line", "item")."""
    today = today or timezone.localdate()
    checked = CheckedFigures()
    references = {str(f.reference).strip() for f in figures}
    contracts = {c.reference: c for c in Contract.objects.filter(reference__in=references)}
    writable = {c.pk for c in contracts.values() if may_record(c)}
    slas_by_contract_kpi = {}
    for sla in SLA.objects.filter(contract__in=contracts.values(), active=True).select_related("kpi", "contract"):
        slas_by_contract_kpi.setdefault((sla.contract_id, sla.kpi.code), []).append(sla)

    seen = {}
    implausible_dates = {}  # a push has many figures per day: each day is judged once

    def implausible_date(day):
        if day not in implausible_dates:
            implausible_dates[day] = plausible_date_error(day, today)
        return implausible_dates[day]

    for figure in figures:
        reference, code = str(figure.reference).strip(), str(figure.code).strip()
        start_cell, value_cell, note = figure.period_start, figure.value, figure.note
        problems = []
        contract = contracts.get(reference)
        allowed = contract is not None and contract.pk in writable
        if not reference:
            problems.append("the contract reference is empty")
        elif contract is None:
            problems.append(f"no contract with reference “{_show(reference)}”")
        elif not allowed:
            problems.append(f"you may not enter figures for contract {reference} (not yours)")
            checked.forbidden.append(figure.key)
        start = _parse_date(start_cell)
        if start is None:
            problems.append(f"“{_show(start_cell)}” is not a date (write YYYY-MM-DD)")
        elif implausible := implausible_date(start):
            problems.append(implausible.rstrip("."))
            start = None  # no period is worked out for year 9999 (a week of it ends in the year 10000)
        value, value_problem = parse_value(value_cell)
        if value_problem:
            problems.append(value_problem)
        if note is not None and len(str(note)) > SHORT_TEXT_MAX_LENGTH:
            problems.append(f"the note is longer than {SHORT_TEXT_MAX_LENGTH:,} characters")
        sla = None
        if allowed:
            candidates = slas_by_contract_kpi.get((contract.pk, code), [])
            if not code:
                problems.append("the KPI code is empty")
            elif not candidates:
                problems.append(f"contract {reference} has no active SLA for KPI “{_show(code)}”")
            elif start is not None:
                sla = _choose_sla(candidates, start)
                # The rule the KPI entry form applies: the SLA's own period, in force, and over.
                period_problem = recording.figure_period_error(sla, start, today)
                if period_problem:
                    problems.append(period_problem)
        if sla is not None and start is not None:
            kpi = sla.kpi
            if value is not None and value < 0:
                problems.append("a KPI figure cannot be negative")
            if value is not None and kpi.unit == Unit.PERCENT and value > 100:
                problems.append(f"{kpi.name} is a percentage: give a value between 0 and 100")
            if kpi.is_computed:
                problems.append(f"{kpi.name} is computed from the roster, not imported")
            key = (sla.pk, start)
            if key in seen:
                problems.append(f"the same SLA and period is already on {refer_to} {seen[key]}")
            else:
                seen[key] = figure.key
        if problems:
            checked.errors.append(RowError(figure.key, "; ".join(problems) + "."))
        else:
            end = periods.period_end(sla.frequency, start)
            checked.parsed.append((figure.key, sla, start, end, value, None if note is None else str(note)))
    return checked


def write_figures(parsed, user, source, change_reason=None):
    """Write checked figures (``CheckedFigures.parsed``) in one transaction: new ones created, changed ones
    corrected, the same ones left alone; each write with its history row. Returns an ``ImportResult``
    whose ``figures`` are those written (for the breach check the caller requests).

    Set-based: one ``UPDATE … FROM`` for the corrections and one ``INSERT … SELECT`` for the new figures,
    each writing its history rows in the same statement (``common.sql.execute_with_history``), over the
    figures sent as one JSON parameter — whatever their number, two statements. (Through the ORM,
    ``bulk_update`` of 10,000 figures built a ``CASE`` per field and row: 5 s of a 6 s API push.)
    """
    result = ImportResult()
    if not parsed:
        return result
    incoming, params = sql.rows_select(
        INCOMING_COLUMNS, [(sla.pk, start, end, value, note) for _key, sla, start, end, value, note in parsed]
    )
    table, history = Measurement._meta.db_table, Measurement.history.model._meta.db_table
    columns = [field.column for field in Measurement._meta.concrete_fields]
    now = sql.adapt_datetime(timezone.now())
    user_id = user.pk if user else None
    stamp = [source, user_id, now, now]
    history_params = (now, change_reason)
    same_figure = f"{table}.sla_id = i.sla_id AND {table}.period_start = i.period_start"
    corrections = (
        f"UPDATE {table} SET value = i.value, source = %s, recorded_by_id = %s, recorded_at = %s, "  # nosec B608  # SQL assembled from model table names; values are bound parameters
        f"updated_at = %s, note = COALESCE(i.note, {table}.note) FROM ({incoming}) i WHERE {same_figure} "
        f"AND ({table}.value <> i.value OR (i.note IS NOT NULL AND {table}.note <> i.note))"
    )
    new_figures = (
        f"INSERT INTO {table} (sla_id, period_start, period_end, value, note, source, recorded_by_id, "  # nosec B608  # SQL assembled from model table names; values are bound parameters
        f"recorded_at, updated_at) SELECT i.sla_id, i.period_start, i.period_end, i.value, COALESCE(i.note, ''), "
        f"%s, %s, %s, %s FROM ({incoming}) i WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {same_figure})"
    )
    with transaction.atomic():
        # A note left out (None) keeps the figure's note; a value or note that differs is a correction.
        corrected, created = (
            sql.execute_with_history(
                statement,
                [*stamp, *params],
                table,
                history,
                columns,
                history_type,
                history_params,
                history_user_id=user_id,
                returning=["sla_id", "period_start"],
            )
            for statement, history_type in ((corrections, "~"), (new_figures, "+"))
        )
    result.updated, result.created = len(corrected), len(created)
    result.unchanged = len(parsed) - result.updated - result.created
    result.figures = {(sla_id, _as_date(day)) for sla_id, day in (*corrected, *created)}
    return result


INCOMING_COLUMNS = [
    ("sla_id", "bigint"),
    ("period_start", "date"),
    ("period_end", "date"),
    ("value", "numeric"),
    ("note", "text"),
]


def _as_date(day):
    return day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day)
