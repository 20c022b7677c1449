"""Read a user's file as its system exported it: containers (gzip, Excel, Parquet),
encodings and delimiters, into a frame of text columns with the file's own names.

Nothing here knows what the columns mean; ``core.importer`` maps and validates them.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.errors import ImportProblemError

MAX_UPLOAD_MB = 200  # keep equal to server.maxUploadSize in .streamlit/config.toml
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
ENCODINGS = {"auto": "detect", "utf-8": "UTF-8", "cp932": "Shift_JIS (CP932, Japanese Excel)"}


@dataclass(frozen=True)
class RawTable:
    """A file as read, before any mapping: columns keep the file's names."""

    frame: pd.DataFrame
    file_name: str
    size_bytes: int
    encoding: str | None = None
    sheets: tuple[str, ...] = ()
    delimiter: str | None = None  # the CSV delimiter used; ';' means decimal commas are read
    notes: tuple[str, ...] = ()  # what reading decided or left out, shown with the import notes

    @property
    def decimal_comma(self) -> bool:
        """Numbers may use decimal commas: the file is separated by ';', as where ',' is the decimal mark."""
        return self.delimiter == ";"


def _suffix(file_name: str) -> str:
    name = file_name.lower()
    for suffix in CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return Path(name).suffix


def _decode(data: bytes, encoding: str) -> tuple[str, str]:
    if encoding != "auto":
        try:
            return data.decode("utf-8-sig" if encoding == "utf-8" else encoding), encoding
        except UnicodeDecodeError as exc:
            raise ImportProblemError(
                f"The file is not valid {ENCODINGS.get(encoding, encoding)} (byte {exc.start} cannot "
                "be read). Choose another encoding, or save the file as UTF-8."
            ) from exc
    for candidate in ("utf-8", "cp932"):
        try:
            return data.decode("utf-8-sig" if candidate == "utf-8" else candidate), candidate
        except UnicodeDecodeError:
            continue
    raise ImportProblemError(
        "The file's text is neither UTF-8 nor Shift_JIS (CP932). Save it as UTF-8 CSV and try again."
    )


def _read_csv(data: bytes, file_name: str, encoding: str) -> tuple[pd.DataFrame, str]:
    if file_name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise ImportProblemError(f"'{file_name}' ends in .gz but is not gzip-compressed: {exc}.") from exc
    text, used = _decode(data, encoding)
    if not text.strip():
        raise ImportProblemError(f"'{file_name}' is empty. Choose a file with a header row and data rows.")
    try:
        delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    header = [h.strip() for h in next(csv.reader(io.StringIO(text.lstrip().splitlines()[0]), delimiter=delimiter))]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise ImportProblemError(
            f"'{file_name}' has more than one column called {repeated}; rename them so each is unique and retry."
        )
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportProblemError(
            f"'{file_name}' cannot be read as a table: {str(exc).strip()}. Check that every row has "
            "the same number of separators as the header."
        ) from exc
    return frame, used


def read_table(
    data: bytes,
    file_name: str,
    encoding: str = "auto",
    sheet: str | None = None,
    max_mb: float = MAX_UPLOAD_MB,
) -> RawTable:
    """Read CSV (UTF-8 or Shift_JIS, optionally gzipped), Parquet or Excel bytes."""
    size = len(data)
    if size > max_mb * 1024 * 1024:
        raise ImportProblemError(
            f"'{file_name}' is {size / 1024 / 1024:,.1f} MB; the limit is {max_mb:,.0f} MB. Export only "
            "the columns you need, save it as Parquet (much smaller), or split it by period."
        )
    if size == 0:
        raise ImportProblemError(f"'{file_name}' is empty (0 bytes). Choose a file with data in it.")
    suffix = _suffix(file_name)
    used_encoding = None
    sheets: tuple[str, ...] = ()
    if suffix in CSV_SUFFIXES:
        frame, used_encoding = _read_csv(data, file_name, encoding)
    elif suffix in PARQUET_SUFFIXES:
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise ImportProblemError(f"'{file_name}' is not a readable Parquet file: {exc}.") from exc
    elif suffix in EXCEL_SUFFIXES:
        try:
            book = pd.ExcelFile(io.BytesIO(data), engine="calamine")
            sheets = tuple(str(s) for s in book.sheet_names)
            chosen = sheet if sheet is not None else sheets[0]
            if chosen not in sheets:
                raise ImportProblemError(f"'{file_name}' has no sheet '{chosen}'; its sheets are {list(sheets)}.")
            frame = pd.read_excel(book, sheet_name=chosen)
        except ImportProblemError:
            raise
        except Exception as exc:  # calamine raises its own error types for broken files
            raise ImportProblemError(f"'{file_name}' is not a readable Excel workbook: {exc}.") from exc
    else:
        raise ImportProblemError(
            f"'{file_name}': files of type '{suffix or 'unknown'}' cannot be imported. Use CSV, "
            "Parquet or Excel (.xlsx)."
        )
    frame = frame.loc[:, [not str(c).startswith("Unnamed:") or frame[c].notna().any() for c in frame.columns]]
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty or frame.dropna(how="all").empty:
        raise ImportProblemError(
            f"'{file_name}' has no data rows. Choose a file with a header row and at least one row of data."
        )
    if len(set(frame.columns)) != len(frame.columns):
        raise ImportProblemError(f"'{file_name}' has two columns with the same name; rename one and retry.")
    return RawTable(frame=frame, file_name=file_name, size_bytes=size, encoding=used_encoding, sheets=sheets)
