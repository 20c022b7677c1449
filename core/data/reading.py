"""Read a user's file as its system exported it: containers (gzip, Excel, Parquet),
encodings and delimiters, into a frame with the file's own column names.

A file is read right or refused with one line that says what is wrong and how to fix
it. Sizes are checked on what a file holds once unpacked, before or while it is
unpacked, so a small archive cannot eat the machine. Only empty cells are missing:
``NA``, ``null`` or ``-`` stay text, and the importer decides per role what they mean.
Whatever is left out (a column of an unsupported type, a name too long to be one,
empty rows) is said in ``RawTable.notes``.

Nothing here knows what the columns mean; ``core.data.importer`` maps and validates them.
"""

from __future__ import annotations

import codecs
import gzip
import io
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.errors import ImportProblemError
from core.i18n import M_, N_, Fmt, Msg, render

MAX_UPLOAD_MB = 200  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_NAME_CHARS = 200  # a longer header cell is not a column name (a stray text or a broken file)
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
# Each encoding's name for people (marked: translate where shown, ``_(ENCODINGS[key])``).
ENCODINGS = {
    "auto": N_("detect"),
    "utf-8": "UTF-8",
    "cp932": N_("Shift_JIS (CP932, Japanese Excel)"),
    "utf-16": N_("UTF-16 (Excel's “Unicode text”)"),
    "cp1252": N_("Windows-1252 (Western European Excel)"),
}
DELIMITERS = (",", "\t", ";", "|")  # in order of preference when two read a file equally well

_MB = 1024 * 1024
_CHUNK = _MB
_SNIFF_CHARS = 256 * 1024
_SNIFF_RECORDS = 50
_ZIP_CONTAINERS = (".xlsx", ".xlsm", ".ods")
# A sheet is read as a dense grid from A1 to its last cell; each cell costs ~150 bytes
# while calamine and pandas read it. Allowing one cell per 48 bytes of the limit keeps a
# sheet at the limit (4.4 million cells for 200 MB) under about 700 MB.
_BYTES_PER_SHEET_CELL = 48
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


@dataclass(frozen=True)
class RawTable:
    """A file as read, before any mapping: columns keep the file's names.

    ``encoding`` is the text encoding a CSV was decoded with (a key of ``ENCODINGS``) and
    ``delimiter`` its field separator; both are None for Excel and Parquet. ``note_facts`` say
    in one line each what reading did that the user should know: columns left out, empty
    rows skipped, an encoding other than UTF-8.
    """

    frame: pd.DataFrame
    file_name: str
    size_bytes: int
    encoding: str | None = None
    sheets: tuple[str, ...] = ()
    delimiter: str | None = None
    note_facts: tuple[Msg, ...] = ()  # messages, read in the reader's language (``notes``)

    @property
    def notes(self) -> tuple[str, ...]:
        """The notes in the current language."""
        return tuple(render(note) for note in self.note_facts)

    @property
    def decimal_comma(self) -> bool:
        """Numbers may use a decimal comma: the file separates its fields with ';' (as
        European Excel does), so a comma cannot be a field separator inside a number."""
        return self.delimiter == ";"


def read_table(
    data: bytes,
    file_name: str,
    encoding: str = "auto",
    sheet: str | None = None,
    max_mb: float = MAX_UPLOAD_MB,
) -> RawTable:
    """Read CSV (UTF-8, Shift_JIS or UTF-16, optionally gzipped), Parquet or Excel bytes.

    ``max_mb`` bounds both the file and what it holds once decompressed.
    """
    size = len(data)
    limit = _Limit(file_name, max_mb)
    if size > limit.bytes:
        raise ImportProblemError(M_(
            "'{file}' is {size:,.1f} MB; the limit is {limit:,.0f} MB. Export only "
            "the columns you need, save it as Parquet (much smaller), or split it by period.",
            file=file_name, size=size / _MB, limit=max_mb))
    if size == 0:
        raise ImportProblemError(M_("'{file}' is empty (0 bytes). Choose a file with data in it.", file=file_name))
    suffix = _suffix(file_name)
    if suffix in CSV_SUFFIXES:
        raw = _read_csv(data, file_name, encoding, limit)
    elif suffix in PARQUET_SUFFIXES:
        raw = _read_parquet(data, file_name, limit)
    elif suffix in EXCEL_SUFFIXES:
        raw = _read_excel(data, file_name, sheet, limit)
    else:
        if suffix:
            raise ImportProblemError(M_("'{file}': files of type '{suffix}' cannot be imported. Use CSV, "
                                        "Parquet or Excel (.xlsx).", file=file_name, suffix=suffix))
        raise ImportProblemError(M_("'{file}': files of an unknown type cannot be imported. Use CSV, "
                                    "Parquet or Excel (.xlsx).", file=file_name))
    return _tidy(replace(raw, size_bytes=size))


# ---------------------------------------------------------------------------------
# The shared ground
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Limit:
    """The size limit, and the one-line refusal when a file holds more than it."""

    file_name: str
    max_mb: float

    @property
    def bytes(self) -> int:
        return int(self.max_mb * _MB)

    def exceeded(self, what: Msg, fix: Msg | None = None) -> ImportProblemError:
        """``what``: what the file holds, a clause ("holds more than 200 MB once decompressed")."""
        fix = fix or M_("Export only the columns and the period you need, or save the table as Parquet.")
        return ImportProblemError(M_("'{file}' {what}; the limit is {limit:,.0f} MB of data. {fix}",
                                     file=self.file_name, what=what, limit=self.max_mb, fix=fix))


def _suffix(file_name: str) -> str:
    name = file_name.lower()
    for suffix in CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return Path(name).suffix


def _brief(exc: BaseException) -> str:
    """A library's error as one short line (they can span many lines, or be empty)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"


def _shorten(name: str, chars: int = 40) -> str:
    return name if len(name) <= chars else name[: chars - 1] + "…"


def _tidy(raw: RawTable) -> RawTable:
    """The same finish for every format: usable column names, blank cells missing, empty
    rows skipped; refuse a file with nothing left to import."""
    frame, notes, name = raw.frame, list(raw.note_facts), raw.file_name
    names = [
        f"Unnamed: {i}" if pd.isna(c) else " ".join(str(c).split()) or f"Unnamed: {i}"
        for i, c in enumerate(frame.columns)
    ]
    frame = frame.set_axis(range(len(names)), axis=1)  # positions: names may repeat or be overlong
    too_long = [i for i, n in enumerate(names) if len(n) > MAX_NAME_CHARS]
    if too_long:
        described = [M_("column {n} ('{name}', {chars:,} characters)", n=i + 1, name=_shorten(names[i], 30),
                        chars=len(names[i])) for i in too_long[:3]]
        notes.append(M_("Left out {n} column(s) whose header is too long to be a name: {described}. "
                        "Column names can have at most {most} characters; shorten them in the file "
                        "if you need these columns.", n=len(too_long), described=_listed(described),
                        most=MAX_NAME_CHARS))
    for column in frame.columns:
        frame[column] = _blank_as_missing(frame[column])
    kept = [i for i in range(len(names)) if i not in too_long
            and not (names[i].startswith("Unnamed:") and frame[i].isna().all())]
    frame = frame[kept].set_axis([names[i] for i in kept], axis=1)
    repeated = sorted(n for n, count in Counter(frame.columns).items() if count > 1)
    if repeated:
        raise ImportProblemError(M_(
            "'{file}' has more than one column called {columns}; rename them so each is unique and retry.",
            file=name, columns=str([_shorten(n) for n in repeated[:5]])))
    if frame.columns.empty:
        if too_long:
            raise ImportProblemError(M_(
                "'{file}' has no column that can be read: every header cell is longer than {most} characters. "
                "Check that its first row holds the column names.", file=name, most=MAX_NAME_CHARS))
        raise ImportProblemError(M_("'{file}' has no column that can be read. Check that its first row holds "
                                    "the column names.", file=name))
    empty = frame.isna().all(axis=1)
    if empty.all():
        raise ImportProblemError(M_(
            "'{file}' has no data rows. Choose a file with a header row and at least one row of data.", file=name))
    if empty.any():
        frame = frame.loc[~empty]
        notes.append(M_("Skipped {n:,} completely empty row(s).", n=int(empty.sum())))
    return replace(raw, frame=frame.reset_index(drop=True), note_facts=tuple(notes))


def _listed(parts: list[Msg]) -> Msg | str:
    """Up to three descriptions joined as a list ("a, b, c"), in the reader's language."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return M_("{first}, {second}", first=parts[0], second=parts[1])
    return M_("{first}, {second}, {third}", first=parts[0], second=parts[1], third=parts[2])


def _blank_as_missing(values: pd.Series) -> pd.Series:
    """Only empty cells are missing; a cell of spaces (ASCII or full-width) is empty too."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.mask(values.str.strip().eq(""))
    if values.dtype == object:
        return values.mask(values.map(lambda v: isinstance(v, str) and not v.strip(), na_action="ignore")
                           .fillna(False).astype(bool))
    return values


# ---------------------------------------------------------------------------------
# CSV: containers, encodings, delimiters
# ---------------------------------------------------------------------------------
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "utf-16"))


def _read_csv(data: bytes, file_name: str, encoding: str, limit: _Limit) -> RawTable:
    notes: list[Msg] = []
    if file_name.lower().endswith(".gz") and not data.startswith(_GZIP_MAGIC):
        raise ImportProblemError(M_("'{file}' ends in .gz but is not gzip-compressed; rename it without "
                                    ".gz, or compress it with gzip.", file=file_name))
    if data.startswith(_GZIP_MAGIC):
        if not file_name.lower().endswith(".gz"):
            notes.append(M_("'{file}' is gzip-compressed although its name does not end in .gz; it was "
                            "decompressed.", file=file_name))
        buffer = _gunzip(data, limit)
    else:
        buffer = io.BytesIO(data)
    with buffer.getbuffer() as view:
        if view[:4] == _ZIP_MAGIC:
            raise ImportProblemError(M_("'{file}' is a zip archive (an Excel workbook?), not text. Save "
                                        "it as .xlsx to import it as Excel, or export it as CSV.", file=file_name))
        text = _decode(view, encoding, file_name)
    if text.encoding in ("cp932", "utf-16", "cp1252"):
        if text.why is None:
            notes.append(M_("'{file}' was read as {encoding}.", file=file_name, encoding=_encoding(text.encoding)))
        else:
            notes.append(M_("'{file}' was read as {encoding} {why}.", file=file_name,
                            encoding=_encoding(text.encoding), why=text.why))
    hint = _SEPARATOR_HINT.match(text.start)
    if hint:
        notes.append(M_("The first line, '{line}', is Excel's separator hint: it was used and skipped.",
                        line=hint.group().strip()))
    delimiter = hint.group(1) if hint else _sniff_delimiter(text.start, complete=text.complete)
    options = dict(sep=delimiter, dtype=str, encoding=text.codec, keep_default_na=False, na_values=[""],
                   skipinitialspace=True, engine="c", skiprows=1 if hint else None)
    try:
        header = pd.read_csv(buffer, header=None, nrows=1, **options).iloc[0].tolist()
        buffer.seek(0)
        frame = pd.read_csv(buffer, header=0, **options)
    except pd.errors.EmptyDataError as exc:
        raise ImportProblemError(M_("'{file}' has no rows. Choose a file with a header row and data rows.",
                                    file=file_name)) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        detail = _brief(exc).removeprefix("Error tokenizing data. C error: ")
        raise ImportProblemError(M_(
            "'{file}' cannot be read as a table separated by {separator}: {detail}. "
            "Check that every row has the same number of separators as the header.", file=file_name,
            separator=Msg(_DELIMITER_NAMES[delimiter]), detail=detail)) from exc
    if not isinstance(frame.index, pd.RangeIndex) or len(frame.columns) != len(header):
        # pandas silently makes an index of the first fields when rows have more than the header
        raise ImportProblemError(M_(
            "The rows of '{file}' have more fields than its header ({n} separated by {separator}); give every "
            "column a name in the first row, or remove the extra separators at the ends of the rows.",
            file=file_name, n=len(header), separator=Msg(_DELIMITER_NAMES[delimiter])))
    frame.columns = header
    return RawTable(frame=frame, file_name=file_name, size_bytes=len(data), encoding=text.encoding,
                    delimiter=delimiter, note_facts=tuple(notes))


_DELIMITER_NAMES = {",": N_("commas"), "\t": N_("tabs"), ";": N_("semicolons"), "|": N_("vertical bars")}


def _encoding(key: str) -> Msg | str:
    """An encoding's name for people, read in their language when shown."""
    return Msg(ENCODINGS[key]) if key in ENCODINGS else key
_SEPARATOR_HINT = re.compile(r"sep=([,;\t|])[ \t]*\r?\n")


def _gunzip(data: bytes, limit: _Limit) -> io.BytesIO:
    """Decompress chunk by chunk and refuse as soon as the output passes the limit.

    The output is kept only while the file looks as if it fits (the output so far, scaled
    by the share of the input read): a file that looks too big is only counted from then
    on, so that a bomb is refused without filling memory; one that fits after all is
    decompressed a second time, to be kept."""
    kept = _inflate(data, limit, hopeful=True)
    return kept if kept is not None else _inflate(data, limit, hopeful=False)


def _inflate(data: bytes, limit: _Limit, hopeful: bool) -> io.BytesIO | None:
    """The decompressed bytes, or None when ``hopeful`` stopped keeping them."""
    source, out, size = io.BytesIO(data), io.BytesIO(), 0
    try:
        with gzip.GzipFile(fileobj=source) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit.bytes:
                    raise limit.exceeded(M_("holds more than {limit:,.0f} MB once decompressed",
                                            limit=limit.max_mb))
                if hopeful and size * len(data) > limit.bytes * max(source.tell(), 1):
                    out = None  # looks too big: count the rest without keeping it
                if out is not None:
                    out.write(chunk)
    except EOFError as exc:
        raise ImportProblemError(M_("'{file}' is cut short: the gzip file ends before its data does. "
                                    "Copy or download it again, complete this time.", file=limit.file_name)) from exc
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ImportProblemError(M_("'{file}' is a damaged gzip file ({detail}). Compress the CSV "
                                    "again, or upload it uncompressed.", file=limit.file_name,
                                    detail=_brief(exc))) from exc
    if out is not None:
        out.seek(0)
    return out


class _Text(NamedTuple):
    """How a file's bytes are text: the Python codec, the ENCODINGS key it is reported as
    (and why it was chosen, when that is worth saying), and the text's start for sniffing."""

    codec: str
    encoding: str
    why: Msg | None
    start: str
    complete: bool  # the start is the whole text


def _decode(view: memoryview, encoding: str, file_name: str) -> _Text:
    """Prove the file is text in one encoding by decoding all of it chunk by chunk,
    without keeping it. A byte-order mark is unambiguous and wins over the choice made in
    the app; "auto" then tries UTF-16 without a mark, UTF-8, Shift_JIS and, for text that
    reads as Western European rather than Japanese, Windows-1252."""
    bom_failed = None
    for bom, codec, used in _BOMS:
        if view[: len(bom)] == bom:
            why = None if encoding in ("auto", used) else M_("(its byte-order mark says so, not {encoding})",
                                                              encoding=encoding)
            try:
                return _decoded(view, codec, used, why, file_name, strict=encoding == "auto")
            except UnicodeDecodeError:  # looked like a mark, but what follows is not that text
                bom_failed = used
    if encoding in ("auto", "utf-16"):
        order = _utf16_without_bom(bytes(view[:4096]))
        if order or encoding == "utf-16":
            why = M_("(recognised without a byte-order mark)") if encoding == "auto" else None
            return _decoded(view, order or "utf-16-le", "utf-16", why, file_name)
    if encoding == "auto":
        found = {}
        for codec in ("utf-8", "cp932", "cp1252"):
            try:
                found[codec] = _decoded(view, codec, codec, None, file_name, strict=True)
            except UnicodeDecodeError:
                continue
            if codec == "utf-8" or (codec == "cp932" and not _accents_seen_as_kanji(found[codec].start)):
                return found[codec]
        if "cp1252" in found and _western(found["cp1252"].start):
            return found["cp1252"]
        if "cp932" in found:
            return found["cp932"]
        if bom_failed:
            raise ImportProblemError(M_(
                "The file's text is neither UTF-8 nor Shift_JIS (CP932) nor Windows-1252, although it starts like "
                "{encoding}. Save it as UTF-8 CSV and try again.", encoding=_encoding(bom_failed)))
        raise ImportProblemError(M_(
            "The file's text is neither UTF-8 nor Shift_JIS (CP932) nor Windows-1252. Save it as UTF-8 CSV and "
            "try again."))
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ImportProblemError(M_("'{encoding}' is not an encoding Mitoshi knows; choose one of {known}.",
                                    encoding=encoding, known=str([e for e in ENCODINGS if e != 'auto']))) from exc
    return _decoded(view, "utf-8-sig" if encoding == "utf-8" else encoding, encoding, None, file_name)


def _accents_seen_as_kanji(text: str) -> bool:
    """Western European text read as Shift_JIS: an accented letter's byte swallows the
    next letter into one kanji, so most non-ASCII runs are one character inside a Latin
    word ("Cr鑪e" for "Crème"); in Japanese text they are words of their own."""
    runs = list(re.finditer(r"[^\x00-\x7f]+", text))  # so their neighbours are ASCII
    inside = sum(1 for m in runs if len(m.group()) == 1 and text[m.start() - 1:m.start()].isalpha()
                 and text[m.end():m.end() + 1].isalpha())
    return bool(runs) and inside >= len(runs) / 2


def _western(text: str) -> bool:
    """Text whose non-ASCII characters are mostly Latin letters (é, ß, Ø), as a Western
    European file reads in Windows-1252, rather than the symbols (“Œ‹ž) that Japanese
    bytes become in it."""
    others = [c for c in text if not c.isascii()]
    latin = sum(1 for c in others if "LATIN" in unicodedata.name(c, ""))
    return bool(others) and latin >= 0.7 * len(others)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a byte-order mark: ASCII characters leave zero bytes on one side."""
    even, odd = head[0::2], head[1::2]
    if len(odd) < 8:
        return None
    if odd.count(0) > len(odd) / 4 and even.count(0) < len(even) / 20:
        return "utf-16-le"
    if even.count(0) > len(even) / 4 and odd.count(0) < len(odd) / 20:
        return "utf-16-be"
    return None


def _decoded(view: memoryview, codec: str, used: str, why: Msg | None, file_name: str,
             strict: bool = False) -> _Text:
    """Decode everything, refusing bytes that are not ``codec``, NUL characters and files
    of only blanks. With ``strict`` a decoding error is raised as is, so that the caller
    can try another codec."""
    decoder = codecs.getincrementaldecoder(codec)()
    start, length, has_text = "", 0, False
    for at in range(0, max(len(view), 1), _CHUNK):
        try:
            text = decoder.decode(view[at:at + _CHUNK], final=at + _CHUNK >= len(view))
        except UnicodeDecodeError as exc:
            if strict:
                raise
            raise ImportProblemError(M_(
                "'{file}' is not valid {encoding} (byte {byte:,} cannot be read). Choose another encoding, or save "
                "the file as UTF-8.", file=file_name, encoding=_encoding(used), byte=at + exc.start)) from exc
        if "\x00" in text:
            raise ImportProblemError(M_(
                "'{file}' holds NUL characters, so it is not plain text in {encoding}. "
                "If it is Excel's \u201cUnicode text\u201d, choose UTF-16; otherwise save it from Excel as "
                "\u201cCSV UTF-8\u201d.", file=file_name, encoding=_encoding(used)))
        has_text = has_text or (bool(text) and not text.isspace())
        if len(start) < _SNIFF_CHARS:
            start += text[: _SNIFF_CHARS - len(start)]
        length += len(text)
    if not has_text:
        raise ImportProblemError(M_("'{file}' is empty. Choose a file with a header row and data rows.",
                                    file=file_name))
    return _Text(codec, used, why, start, complete=length <= _SNIFF_CHARS)


def _sniff_delimiter(sample: str, complete: bool) -> str:
    """The separator that splits the first records of ``sample`` into the same number of
    fields each, counting only separators outside quotes; the most fields wins, then the
    order of ``DELIMITERS``. ``complete``: the sample is the whole file."""
    sample = sample.replace("\r\n", "\n").replace("\r", "\n")
    scores = {}
    for delimiter in DELIMITERS:
        counts = _fields_per_record(sample, delimiter, complete)
        if counts and counts[0] > 1:
            same = sum(c == counts[0] for c in counts) / len(counts)
            scores[delimiter] = (same == 1, same, counts[0], -DELIMITERS.index(delimiter))
    return max(scores, key=scores.__getitem__) if scores else ","


def _fields_per_record(sample: str, delimiter: str, complete: bool) -> list[int]:
    """Fields in each of the first records, as a CSV reader splits them: a quote opens a
    quoted field only at the start of a field, and "" inside one is a quote."""
    token = re.compile(f'"|\n|{re.escape(delimiter)}|[^"\n{re.escape(delimiter)}]+')
    counts: list[int] = []
    fields, quoted, just_closed, at_field_start, has_content = 1, False, False, True, False
    for match in token.finditer(sample):  # stops reading at the last record needed
        tok = match.group()
        if quoted:
            if tok == '"':
                quoted, just_closed = False, True
            continue
        if tok == '"':
            quoted = at_field_start or just_closed
            just_closed, at_field_start, has_content = False, False, True
            continue
        just_closed = False
        if tok == "\n":
            if has_content:
                counts.append(fields)
                if len(counts) == _SNIFF_RECORDS:
                    return counts
            fields, at_field_start, has_content = 1, True, False
        elif tok == delimiter:
            fields, at_field_start, has_content = fields + 1, True, True
        elif tok.strip():
            at_field_start, has_content = False, True
    if has_content and (complete or not counts):  # the last record is whole, or the only one seen
        counts.append(fields)
    return counts


# ---------------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------------
def _read_excel(data: bytes, file_name: str, sheet: str | None, limit: _Limit) -> RawTable:
    archive = _open_zip(data, file_name, limit) if _suffix(file_name) in _ZIP_CONTAINERS else None
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="calamine")
        sheets = tuple(str(s) for s in book.sheet_names)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise _not_a_workbook(file_name, exc) from exc
    if not sheets:
        raise ImportProblemError(M_("'{file}' has no sheets. Save the workbook with the data on a sheet.",
                                    file=file_name))
    chosen = sheet if sheet is not None else sheets[0]
    if chosen not in sheets:
        raise ImportProblemError(M_("'{file}' has no sheet '{sheet}'; its sheets are {sheets}.", file=file_name,
                                    sheet=chosen, sheets=Fmt("names", list(sheets))))
    if archive is not None and _suffix(file_name) != ".ods":
        try:
            rows, columns = _sheet_extent(archive, chosen)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise _not_a_workbook(file_name, exc) from exc
        if rows * columns > limit.bytes // _BYTES_PER_SHEET_CELL:
            raise limit.exceeded(
                M_("has sheet '{sheet}' spanning {rows:,} rows × {columns:,} columns from A1 to its last filled "
                   "cell, more than the {cells:,} cells that fit", sheet=chosen, rows=rows, columns=columns,
                   cells=limit.bytes // _BYTES_PER_SHEET_CELL),
                M_("Delete stray cells far from the data, or save the sheet as CSV."),
            )
    try:
        grid = pd.read_excel(book, sheet_name=chosen, header=None, keep_default_na=False, na_values=[""])
    except Exception as exc:  # calamine raises its own error types for broken sheets
        raise _not_a_workbook(file_name, exc) from exc
    filled = grid.notna().any(axis=1).to_numpy()
    if not filled.any():
        raise ImportProblemError(M_("Sheet '{sheet}' of '{file}' is empty. Choose the sheet with the data.",
                                    sheet=chosen, file=file_name))
    grid = grid.iloc[filled.argmax():]  # the header is the first row with something in it
    frame = grid.iloc[1:].reset_index(drop=True).infer_objects()  # the header made every column text
    frame.columns = grid.iloc[0].tolist()
    return RawTable(frame=frame, file_name=file_name, size_bytes=len(data), sheets=sheets)


def _not_a_workbook(file_name: str, exc: BaseException) -> ImportProblemError:
    return ImportProblemError(M_("'{file}' is not a readable Excel workbook ({detail}). Open it in "
                                 "Excel and save it again as .xlsx, or export the sheet as CSV.", file=file_name,
                                 detail=_brief(exc)))


def _open_zip(data: bytes, file_name: str, limit: _Limit) -> zipfile.ZipFile:
    """The workbook's zip, refused when damaged or when its parts, unzipped, pass the limit
    (the sizes declared in its central directory, read before anything is unzipped)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unzipped = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _not_a_workbook(file_name, exc) from exc
    if unzipped > limit.bytes:
        raise limit.exceeded(M_("holds {size:,.0f} MB once unzipped", size=unzipped / _MB))
    return archive


def _sheet_members(archive: zipfile.ZipFile, sheet: str) -> list[str]:
    """The part holding ``sheet``'s cells, found through the workbook's relationships; every
    worksheet part when they cannot be followed."""
    names = set(archive.namelist())
    every = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        rel_id = next(value for el in book.iter() if local(el.tag) == "sheet" and el.get("name") == sheet
                      for key, value in el.attrib.items() if local(key) == "id")
        target = next(el.get("Target", "") for el in rels.iter() if el.get("Id") == rel_id)
    except (KeyError, StopIteration, ElementTree.ParseError, zipfile.BadZipFile, OSError):
        return every
    member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return [member] if member in names else every


def _sheet_extent(archive: zipfile.ZipFile, sheet: str) -> tuple[int, int]:
    """Rows and columns from A1 to the last cell with a value: the grid calamine allocates
    whatever lies between (one stray value at XFD1048576 makes 17 billion cells).

    Streams the sheet's XML in chunks cut after a tag. Cells without an ``r="B7"``
    reference are placed by position: each counts as one more column, and each row
    without a reference as one more row, which can only overstate the grid."""
    extent = _Extent()
    for member in _sheet_members(archive, sheet):
        pending = b""
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                data = pending + chunk
                cut = data.rfind(b">") + 1  # never split a tag
                extent.add(data[:cut])
                pending = data[cut:]
        extent.add(pending)
    return extent.bounds()


@dataclass
class _Extent:
    """What the scan of a sheet's XML has seen so far."""

    rows: int = 0  # the last row and column holding a value, by reference
    columns: int = 0
    last_row_ref: int = 0
    cell_refs: int = 0
    row_refs: int = 0
    cell_tags: int = 0
    row_tags: int = 0

    def add(self, xml: bytes) -> None:
        refs = _references(xml)
        is_cell = refs.letters > 0
        value_cell = is_cell & refs.valued
        self.cell_refs += int(is_cell.sum())
        self.row_refs += int((~is_cell).sum())
        self.rows = max(self.rows, int(_largest(refs.digits[value_cell], refs.row_keys[value_cell]) or 0))
        self.columns = max(self.columns, _column_number(_largest(refs.letters[value_cell],
                                                                 refs.column_keys[value_cell])))
        self.last_row_ref = max(self.last_row_ref, int(_largest(refs.digits[~is_cell], refs.row_keys[~is_cell]) or 0))
        self.cell_tags += sum(xml.count(tag) for tag in (b"<c ", b"<c>", b":c ", b":c>"))
        self.row_tags += sum(xml.count(tag) for tag in (b"<row ", b"<row>", b":row ", b":row>"))

    def bounds(self) -> tuple[int, int]:
        unplaced_cells = self.cell_tags - self.cell_refs
        if unplaced_cells <= 0:
            return self.rows, self.columns
        unplaced_rows = max(self.row_tags - self.row_refs, 0)
        return max(self.rows, self.last_row_ref + unplaced_rows), self.columns + unplaced_cells


class _Refs(NamedTuple):
    """The ``r="..."`` references of a stretch of sheet XML, one entry each: the count
    and the left-aligned bytes (as a big-endian integer, so that integers compare as the
    text does) of its letters (0 for a row's reference) and of its digits, and whether
    its tag is open, i.e. the cell holds a value rather than being an empty ``<c .../>``."""

    letters: np.ndarray
    column_keys: np.ndarray
    digits: np.ndarray
    row_keys: np.ndarray
    valued: np.ndarray


def _references(xml: bytes) -> _Refs:
    """Vectorised, because a regular expression over a large sheet takes longer than
    calamine's own reading of it."""
    a = np.frombuffer(xml, np.uint8)
    hit = a[:-3] == ord(" ") if len(a) > 3 else np.zeros(0, bool)
    for offset, char in enumerate('r="', start=1):
        hit &= a[offset:len(a) - 3 + offset] == ord(char)
    starts = np.flatnonzero(hit) + 4
    window = a[np.minimum(starts[:, None] + np.arange(12), len(a) - 1)]  # "XFD1048576" and more
    letters = np.argmin((window >= ord("A")) & (window <= ord("Z")), axis=1)
    column_bytes = np.where(np.arange(4) < np.minimum(letters, 4)[:, None], window[:, :4], 0).astype(np.uint8)
    after = np.take_along_axis(window, np.minimum(letters[:, None] + np.arange(8), 11), axis=1)
    in_number = np.logical_and.accumulate((after >= ord("0")) & (after <= ord("9")), axis=1)
    row_bytes = np.where(in_number, after, 0).astype(np.uint8)
    closes = np.flatnonzero(a == ord(">"))
    tag_ends = closes[np.minimum(np.searchsorted(closes, starts), len(closes) - 1)] if len(closes) else starts
    return _Refs(
        letters=letters,
        column_keys=np.ascontiguousarray(column_bytes).view(">u4").ravel(),
        digits=in_number.sum(axis=1),
        row_keys=np.ascontiguousarray(row_bytes).view(">u8").ravel(),
        valued=a[np.maximum(tag_ends - 1, 0)] != ord("/"),
    )


def _largest(lengths: np.ndarray, keys: np.ndarray) -> bytes:
    """The largest of left-aligned texts given as (length, key): a longer one is larger
    (references have no leading zeros), then the larger key."""
    if not len(lengths):
        return b""
    longest = lengths == lengths.max()
    return int(keys[longest].max()).to_bytes(keys.dtype.itemsize, "big").rstrip(b"\0")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - ord("A") + 1
    return number


# ---------------------------------------------------------------------------------
# Parquet
# ---------------------------------------------------------------------------------
def _read_parquet(data: bytes, file_name: str, limit: _Limit) -> RawTable:
    try:
        parquet = pq.ParquetFile(io.BytesIO(data), page_checksum_verification=True)  # where written
        schema, meta = parquet.schema_arrow, parquet.metadata
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise _not_parquet(file_name, exc) from exc
    fields = [f for f in schema if not _PANDAS_INDEX.fullmatch(f.name)]  # pandas' unnamed index: not data
    names = [f.name for f in fields]
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise ImportProblemError(M_(
            "'{file}' has more than one column called {columns}; rename them so each is unique and retry.",
            file=file_name, columns=str(repeated[:5])))
    kept = [f for f in fields if _readable(f.type)]
    left_out = [f for f in fields if not _readable(f.type)]
    kept_names = {f.name for f in kept}
    unpacked = sum(
        meta.row_group(g).column(c).total_uncompressed_size
        for g in range(meta.num_row_groups) for c in range(meta.num_columns)
        if meta.row_group(g).column(c).path_in_schema.split(".")[0] in kept_names
    )
    in_memory = max(unpacked, meta.num_rows * len(kept) * 8)  # at least 8 bytes a cell once read
    if in_memory > limit.bytes:
        raise limit.exceeded(M_("holds {rows:,} rows × {columns} columns, about {size:,.0f} MB once read",
                                rows=meta.num_rows, columns=len(kept), size=in_memory / _MB),
                             M_("Export only the columns and the period you need, or split the file by period."))
    try:
        table = parquet.read(columns=[f.name for f in kept], use_pandas_metadata=False)
        table = pa.table([_plain(table.column(f.name), f.type) for f in kept], names=[f.name for f in kept])
        frame = table.to_pandas(ignore_metadata=True, date_as_object=False)
    except Exception as exc:  # a damaged page is only found when it is read
        raise _not_parquet(file_name, exc) from exc
    notes = []
    if left_out:
        described = ", ".join(f"'{_shorten(f.name)}' ({_shorten(str(f.type), 30)})" for f in left_out)
        notes.append(M_("Left out {n} column(s) of a type Mitoshi does not read: {described}. Only "
                        "text, numbers, true/false, dates and timestamps are read; convert these in the file if "
                        "you need them.", n=len(left_out), described=described))
    return RawTable(frame=frame, file_name=file_name, size_bytes=len(data), note_facts=tuple(notes))


def _not_parquet(file_name: str, exc: BaseException) -> ImportProblemError:
    return ImportProblemError(M_("'{file}' is not a readable Parquet file ({detail}). Export it "
                                 "again, or save the table as CSV.", file=file_name, detail=_brief(exc)))


def _readable(kind: pa.DataType) -> bool:
    """Text, numbers, true/false, dates and timestamps (and categories of those)."""
    if pa.types.is_dictionary(kind):
        return _readable(kind.value_type)
    return any(test(kind) for test in (
        pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view, pa.types.is_integer,
        pa.types.is_floating, pa.types.is_decimal, pa.types.is_boolean, pa.types.is_date,
        pa.types.is_timestamp, pa.types.is_null,
    ))


def _plain(values: pa.ChunkedArray, kind: pa.DataType) -> pa.ChunkedArray:
    """Categories as their values and decimals as floats, so that the frame holds only
    plain text, number, bool and datetime columns."""
    if pa.types.is_dictionary(kind):
        return _plain(pc.cast(values, kind.value_type), kind.value_type)
    if pa.types.is_decimal(kind):
        return pc.cast(values, pa.float64())
    return values
