"""CSV and XLSX files a spreadsheet user can trust: one place that decides how a value is written.

Every exporter (the lists' ``?_export=``, the admin reports, the admin export actions) hands typed values
to :func:`csv_cell` / :func:`xlsx_cell` (or to :func:`csv_response` / :func:`xlsx_response`):

- text is neutralised against formula injection (:func:`safe_cell`, OWASP "CSV injection");
- numbers stay numbers (``Decimal`` → a number cell, ``1234.50`` in CSV: no thousands separator);
- dates are dates, timestamps are in ``TIME_ZONE`` (ISO 8601 without microseconds in CSV, a naive
  date-time cell in XLSX, which has no time zones);
- empty is empty (``None`` → an empty cell, never "—").
"""

import csv
import datetime
import io
import itertools
import re
from decimal import Decimal

from django.db.models import F, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.encoding import force_str
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Text that is only a number ("-12.5", "+3") cannot hold a formula: left alone.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def safe_cell(value):
    """``value`` with text that a spreadsheet would run as a formula prefixed with ``'`` (OWASP).

    Only text is touched: numbers, dates and ``None`` come back as they are, and so does text that is a
    plain number, so a negative amount is never mangled.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _local_naive(value):
    """A timestamp in ``TIME_ZONE`` without its offset or microseconds."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None, microsecond=0)


def _plain_number(value):
    """``Decimal``/``float`` as plain digits: ``1234.50``, never ``1.2345E+3`` nor ``1,234.50``."""
    if isinstance(value, float):
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text or "E" in text else text
    return format(value, "f")


def _csv_datetime(value):
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.isoformat(timespec="seconds")


def csv_text(value):
    """Text as a CSV field: made safe against formula injection (as :func:`safe_cell`)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value) else value


# The common types by their exact type: one dict look-up per cell instead of a chain of isinstance().
_CSV_BY_TYPE = {
    type(None): lambda value: "",
    bool: lambda value: "yes" if value else "no",
    str: csv_text,
    int: str,
    Decimal: _plain_number,
    float: _plain_number,
    datetime.date: datetime.date.isoformat,
    datetime.datetime: _csv_datetime,
}


def csv_cell(value):
    """One CSV field (a str) for a typed value."""
    write = _CSV_BY_TYPE.get(type(value))
    if write is not None:
        return write(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return _csv_datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _plain_number(value)
    return safe_cell(force_str(value))


def xlsx_cell(value):
    """The value an XLSX cell holds for a typed value (text made safe; see :func:`write_xlsx`)."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime.datetime):
        return _local_naive(value)
    if isinstance(value, datetime.date):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", force_str(value))
    return safe_cell(text) if text else None


def _typed_cell(sheet, value, bold=False):
    value = xlsx_cell(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, nor an error code ("#N/A")
    elif isinstance(value, datetime.datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(rows, title="Export"):
    """An XLSX file (bytes) of ``rows`` (the header first) in openpyxl's write-only mode: rows are streamed
    to a temporary file, not held as cell objects."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    header = True
    for row in rows:
        sheet.append([_typed_cell(sheet, value, bold=header) for value in row])
        header = False
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title):
    """A worksheet name Excel accepts: none of \\ / * ? : [ ], at most 31 characters."""
    title = " ".join(re.sub(r"[\\/*?:\[\]]", " ", force_str(title)).split())
    return title[:31] or "Export"


def _attachment(response, filename):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_lines(rows, rows_per_chunk=500):
    """The CSV text of ``rows`` (the header first), ``rows_per_chunk`` lines at a time: a streamed download
    writes a few kilobytes per write, not one line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, rows_per_chunk)):
        zone = timezone.get_current_timezone()
        writer.writerows([_csv_fields(row, zone) for row in chunk])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _csv_fields(row, zone):
    """``[csv_cell(value) for value in row]`` with the common types written inline (a download's hot loop:
    a call per cell halves its speed); csv.writer itself writes ints as digits and None as empty."""
    fields = []
    for value in row:
        kind = type(value)
        if value is None or kind is int or (kind is str and not value.startswith(FORMULA_PREFIXES)):
            fields.append(value)
        elif kind is Decimal and value.is_finite():
            fields.append(format(value, "f"))
        elif kind is datetime.date:
            fields.append(value.isoformat())
        elif kind is datetime.datetime and value.tzinfo is not None:
            fields.append(value.astimezone(zone).isoformat(timespec="seconds"))
        else:
            fields.append(csv_cell(value))
    return fields


def csv_response(rows, filename, stream=True):
    """A CSV download. Streamed by default: ``rows`` is consumed lazily, so a list exported over a
    server-side cursor takes constant memory; ``stream=False`` for a small, already fetched result."""
    if stream:
        return streamed_csv_response(csv_lines(rows), filename)
    return _attachment(HttpResponse(csv_lines(rows), content_type=CSV_CONTENT_TYPE), filename)


def streamed_csv_response(lines, filename):
    """A CSV download of text already written as CSV (``lines``, consumed as the client reads)."""
    return _attachment(StreamingHttpResponse(lines, content_type=CSV_CONTENT_TYPE), filename)


def xlsx_response(rows, filename, title="Export"):
    return _attachment(HttpResponse(write_xlsx(rows, title), content_type=XLSX_CONTENT_TYPE), filename)


def person_name(path):
    """A user's name as ``get_full_name()`` gives it, else the username, computed in SQL (for
    ``values_list`` exports). ``path`` is the user relation, e.g. ``"owner"``; NULL when it is empty."""
    full_name = Trim(Concat(F(f"{path}__first_name"), Value(" "), F(f"{path}__last_name")))
    return Coalesce(NullIf(full_name, Value("")), F(f"{path}__username"))


def user_name(user):
    """``get_full_name()``, falling back to the username; None without a user."""
    if user is None:
        return None
    return user.get_full_name() or user.get_username()
