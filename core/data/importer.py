"""Import a user's sales file into the warehouse: read, map columns, validate, repair.

The flow is ``read_table`` -> ``suggest_mapping`` (the user edits it) -> ``validate``
(a report of every problem with example rows) -> ``import_table``. Problems block the
import unless the user explicitly chose a repair for them (``Repairs``); a blocked or
failed import writes nothing.

A dataset grows by appending: ``validate_append`` maps a file of new rows onto an existing
dataset's columns by the names the user knows, runs the same row checks and repairs, and
reports what the append would do (rows, series, new series, dates, overlap with stored
dates); ``append_table`` writes it through ``Warehouse.append_rows`` in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from core.columns import DATE, SERIES_ID, TARGET, Freq, series_ids
from core.data.parsing import parse_dates, parse_numbers
from core.data.reading import (  # noqa: F401  (re-exported: pages and the CLI import them from here)
    CSV_SUFFIXES,
    ENCODINGS,
    EXCEL_SUFFIXES,
    MAX_UPLOAD_MB,
    PARQUET_SUFFIXES,
    RawTable,
    read_table,
)

# Re-exported: pages and the command line import these from here.
REEXPORTED = (CSV_SUFFIXES, ENCODINGS, EXCEL_SUFFIXES, MAX_UPLOAD_MB, PARQUET_SUFFIXES, read_table)
from core.data import words
from core.errors import ImportProblemError
from core.i18n import M_, N_, Fmt, Msg, render
from core.warehouse import Appended, Dataset, DatasetSpec, Warehouse, quote

EXAMPLES = 5
# Columns a problem's example rows add to the file's own, by name; people read them
# translated (``_(EXAMPLE_COLUMNS[name])``) where the examples are shown.
EXAMPLE_COLUMNS = {
    "row": N_("row"), "next date in file": N_("next date in file"), "missing periods": N_("missing periods"),
    "last date stored": N_("last date stored"), "first date in file": N_("first date in file"),
    "in the dataset": N_("in the dataset"), "first_date": N_("first date"), "periods": N_("periods"),
}

# ---------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnMapping:
    """Which of the file's columns plays which role. Unmapped columns are not imported."""

    keys: tuple[str, ...]
    date: str
    target: str
    attributes: tuple[str, ...] = ()
    exog_known: tuple[str, ...] = ()
    exog_unknown: tuple[str, ...] = ()
    stockout: str | None = None
    orders: str | None = None
    freq: Freq | None = None  # None: infer from the dates

    def used(self) -> list[str]:
        single = [c for c in (self.date, self.target, self.stockout, self.orders) if c]
        return [*self.keys, *single, *self.attributes, *self.exog_known, *self.exog_unknown]


_TARGET_NAMES = re.compile(r"sales|units|qty|quantity|demand|turnover|amount|volume|^y$|売上|数量|販売", re.I)
_DATE_NAMES = re.compile(r"date|day|month|week|time|period|^ds$|日付|年月|日", re.I)
_KNOWN_NAMES = re.compile(r"price|promo|discount|holiday|event|snap|campaign|価格|売価|特売|祝", re.I)
_STOCKOUT_NAMES = re.compile(r"stock_?out|out_of_stock|欠品", re.I)
_ORDER_NAMES = re.compile(r"^order|ordered|発注", re.I)
_ID_NAMES = re.compile(r"id$|code|key|series|コード|番号", re.I)


def _parse_share(values: pd.Series) -> float:
    sample = values.dropna().head(500)
    if sample.empty:
        return 0.0
    return float(parse_dates(sample).values.notna().mean())


def suggest_mapping(frame: pd.DataFrame, decimal_comma: bool = False) -> ColumnMapping:
    """A first guess at the roles, for the user to correct; each column gets one role at most."""
    columns = list(frame.columns)
    numeric = {c for c in columns if not _looks_like_codes(frame[c], c)
               and parse_numbers(frame[c].head(500), decimal_comma).values.notna().mean() > 0.9}
    dates = [c for c in columns if _DATE_NAMES.search(c) and _parse_share(frame[c]) > 0.9]
    dates += [c for c in columns if c not in dates and c not in numeric and _parse_share(frame[c]) > 0.9]
    date_col = dates[0] if dates else columns[0]
    numeric.discard(date_col)
    targets = [c for c in columns if c in numeric and _TARGET_NAMES.search(c)]
    target = targets[0] if targets else next((c for c in reversed(columns) if c in numeric), columns[-1])
    stockout = next((c for c in columns if c in numeric and c != target and _STOCKOUT_NAMES.search(c)), None)
    orders = next((c for c in columns if c in numeric and c not in (target, stockout) and _ORDER_NAMES.search(c)), None)
    known = tuple(c for c in columns if c in numeric and c not in (target, stockout, orders) and _KNOWN_NAMES.search(c))
    labels = [c for c in columns if c not in numeric and c not in (date_col, target)]
    keys, attributes = _split_keys(frame, labels)
    return ColumnMapping(
        keys=keys, date=date_col, target=target, attributes=attributes, exog_known=known,
        stockout=stockout, orders=orders,
    )


def _looks_like_codes(values: pd.Series, name: str) -> bool:
    """Digits that name things, not count them: item codes with leading zeros (00123) or a
    numeric column named like an id (store_code, item_id) that is not named like a quantity."""
    if _ID_NAMES.search(name) and not _TARGET_NAMES.search(name):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return False
    return bool(values.head(500).astype("string").str.strip().str.match(r"^0\d", na=False).any())


def _split_keys(frame: pd.DataFrame, labels: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Fewest label columns that identify every series; the rest become attributes."""
    if not labels:
        return (), ()
    sample = frame[labels].astype(str)
    n_combos = len(sample.drop_duplicates())
    keys: list[str] = []
    # Most distinct values first; on a tie, a column named like an id wins.
    for column in sorted(labels, key=lambda c: (-sample[c].nunique(), not _ID_NAMES.search(c))):
        keys.append(column)
        if len(sample[keys].drop_duplicates()) == n_combos:
            break
    rest = [c for c in labels if c not in keys]
    constant = sample.groupby(keys)[rest].nunique().le(1).all() if rest else pd.Series(dtype=bool)
    attributes = tuple(c for c in rest if bool(constant.get(c, False)))
    return tuple(c for c in labels if c in keys), attributes


def safe_names(columns: list[str]) -> dict[str, str]:
    """Map each original column name onto a unique identifier the warehouse accepts."""
    taken = {SERIES_ID, DATE, TARGET}
    out: dict[str, str] = {}
    for column in columns:
        name = re.sub(r"\W+", "_", str(column).strip()).strip("_") or "column"
        if name[0].isdigit():
            name = f"c_{name}"
        name = name[:60]
        base, i = name, 2
        while name.lower() in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name.lower())
        out[column] = name
    return out


# ---------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Repairs:
    """Fixes the user chose explicitly. Nothing is repaired unless asked."""

    drop_bad_dates: bool = False
    bad_targets: Literal["drop", "zero"] | None = None
    negatives: Literal["zero", "drop"] | None = None
    drop_missing_keys: bool = False
    align_dates: bool = False
    duplicates: Literal["sum", "mean", "last"] | None = None
    fill_gaps: Literal["zero", "interpolate"] | None = None
    fill_missing_exog: bool = False
    drop_short_series: bool = False
    aggregates: Literal["drop", "keep"] | None = None  # series that are sums of others (a hierarchy)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, with rows that show it. ``text`` says what and how to
    fix it as a message (``core.i18n.Msg``, its values as parameters); ``message`` is that
    text in the current language."""

    code: str
    text: Msg
    count: int
    examples: pd.DataFrame
    repair: str | None = None  # the Repairs field that would fix it; None: fix the file or mapping
    options: tuple[str, ...] = ()  # values that field can take, for choices like "sum" / "last"

    @property
    def message(self) -> str:
        return render(self.text)


@dataclass(frozen=True)
class ImportReport:
    """What the check of a file found. ``note_facts``: what reading and the repairs did, as
    messages (stored with the dataset, so that they read in either language later);
    ``notes``: the same in the current language."""

    problems: tuple[Problem, ...]
    note_facts: tuple[Msg, ...]
    frame: pd.DataFrame | None = None  # the canonical frame, when nothing blocks
    spec: DatasetSpec | None = None
    freq: Freq | None = None
    info: Mapping[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and self.frame is not None

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(render(note) for note in self.note_facts)


class _Blocked(Exception):
    """Stops validation early when later checks would only repeat the same cause."""


def infer_freq(dates: pd.Series, series: pd.Series) -> Freq | None:
    """The frequency from the most common gap between consecutive dates of a series."""
    frame = pd.DataFrame({"s": series.to_numpy(), "d": dates.to_numpy()}).drop_duplicates().sort_values(["s", "d"])
    gaps = frame.groupby("s")["d"].diff().dropna().dt.days
    if gaps.empty:
        return None
    mode = int(gaps.mode().iloc[0])
    if mode == 1:
        return Freq.DAILY
    if mode == 7:
        return Freq.WEEKLY
    if 28 <= mode <= 31:
        return Freq.MONTHLY
    return None


def _examples(frame: pd.DataFrame, mask: pd.Series, columns: list[str]) -> pd.DataFrame:
    rows = frame.loc[mask, columns].head(EXAMPLES).copy()
    rows.insert(0, "row", rows.index + 2)  # +2: the header is row 1 in the user's file
    return rows.reset_index(drop=True)


def _to_flag(values: pd.Series, decimal_comma: bool, column: str) -> tuple[pd.Series, Msg | None]:
    """Numbers as exported (see ``parse_numbers``); yes/no, true/false, y/n, ○/× as 1/0;
    anything else NaN."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float), None
    numeric = parse_numbers(values, decimal_comma, column)
    words = values.astype("string").str.strip().str.lower().map(
        {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0, "y": 1.0, "n": 0.0, "○": 1.0, "×": 0.0}
    )
    return numeric.values.fillna(words.astype(float)), numeric.fact


def validate(
    raw: RawTable,
    mapping: ColumnMapping,
    repairs: Repairs = Repairs(),
    name: str | None = None,
) -> ImportReport:
    """Check ``raw`` under ``mapping``; apply only the repairs asked for.

    Returns every problem found (each with example rows and the repair that would fix
    it) and, if none is left, the canonical frame ready for the warehouse.
    """
    problems: list[Problem] = []
    notes: list[Msg] = list(raw.note_facts)
    try:
        if (refusal := _not_a_sales_history(raw.frame, raw.decimal_comma)) is not None:
            problems.append(refusal)
            raise _Blocked
        frame = _check_mapping(raw.frame, mapping)
        result = _validate_rows(frame, mapping, repairs, problems, notes, decimal_comma=raw.decimal_comma)
    except _Blocked:
        return ImportReport(problems=tuple(problems), note_facts=tuple(notes))
    frame, freq = result
    if problems:
        return ImportReport(problems=tuple(problems), note_facts=tuple(notes), freq=freq)
    renames = safe_names([*mapping.keys, *mapping.attributes, *mapping.exog_known, *mapping.exog_unknown,
                          *[c for c in (mapping.stockout, mapping.orders) if c]])
    # One simultaneous rename, so a user's column called 'ds', 'y' or 'unique_id' never
    # collides with the canonical names (safe_names keeps those free).
    frame = frame.rename(columns=renames | {mapping.date: DATE, mapping.target: TARGET})
    spec = DatasetSpec(
        name=(name or Path(raw.file_name).name.split(".")[0]).strip(),
        freq=freq,
        keys=tuple(renames[c] for c in mapping.keys),
        attributes=tuple(renames[c] for c in mapping.attributes),
        exog_known=tuple(renames[c] for c in mapping.exog_known),
        exog_unknown=tuple(renames[c] for c in mapping.exog_unknown),
        stockout=renames.get(mapping.stockout) if mapping.stockout else None,
        orders=renames.get(mapping.orders) if mapping.orders else None,
        source=imported_source(raw),
        original_names={v: k for k, v in renames.items()} | {DATE: mapping.date, TARGET: mapping.target},
    )
    columns = [*spec.keys, DATE, TARGET, *spec.value_columns()]
    frame = frame[columns].reset_index(drop=True)
    info = {
        "series": int(series_ids(frame, spec.keys).nunique()),
        "rows": len(frame),
        "start": frame[DATE].min().date(),
        "end": frame[DATE].max().date(),
        "frequency": freq.label,
    }
    return ImportReport(problems=(), note_facts=tuple(notes), frame=frame, spec=spec, freq=freq, info=info)


def imported_source(raw: RawTable) -> Msg:
    """Where an imported dataset came from, as its source is shown ("imported: sales.csv (cp932)")."""
    if raw.encoding:
        return M_("imported: {file} ({encoding})", file=raw.file_name, encoding=raw.encoding)
    return M_("imported: {file}", file=raw.file_name)


def _not_a_sales_history(frame: pd.DataFrame, decimal_comma: bool) -> Problem | None:
    """A file with no column of dates, or none of numbers, is not a sales history whatever the
    mapping: said first (before "choose a series key"), with its first rows as the example."""
    columns = ", ".join(map(str, frame.columns))
    if not any(_parse_share(frame[c]) > 0 for c in frame.columns):
        message = M_("No column of the file reads as dates (columns: {columns}): a sales history needs the date "
                     "(or the week, or the month) of each row, in a column of its own. Export the file with its "
                     "dates, or choose another file.", columns=columns)
        return Problem("no_dates", message, len(frame), _examples(frame, frame.index < EXAMPLES, list(frame.columns)))
    if not any(parse_numbers(frame[c].dropna().head(500), decimal_comma).values.notna().any() for c in frame.columns):
        message = M_("No column of the file holds numbers (columns: {columns}): a sales history needs the quantity "
                     "(or amount) sold on each row. Export the file with its sales, or choose another file.",
                     columns=columns)
        return Problem("no_numbers", message, len(frame), _examples(frame, frame.index < EXAMPLES, list(frame.columns)))
    return None


def _check_mapping(frame: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """The mapped columns of ``frame``; raises ``ImportProblemError`` when the mapping cannot be
    right: a column the file lacks, no series key, a column in two roles. A wrong choice among
    the file's columns is left to the row checks, which show example rows (``not_a_date``,
    ``target_not_numeric``)."""
    used = mapping.used()
    missing = [c for c in used if c not in frame.columns]
    if missing:
        raise ImportProblemError(M_("The file has no column(s) {columns}. Pick columns that exist in the file.",
                                    columns=str(missing)))
    if not mapping.keys:
        raise ImportProblemError(M_(
            "Choose at least one column that identifies a series (for example store and item)."))
    twice = sorted({c for c in used if used.count(c) > 1})
    if twice:
        raise ImportProblemError(M_("Column(s) {columns} were given two roles; give each column one role.",
                                    columns=Fmt("names", twice)))
    return frame[used].copy()


def _validate_rows(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    repairs: Repairs,
    problems: list[Problem],
    notes: list[Msg],
    decimal_comma: bool = False,
    check_length: bool = True,
) -> tuple[pd.DataFrame, Freq]:
    """The row checks of an import (and of an append, which skips ``check_length``: a week
    of new rows is short by nature, the series it continues are not)."""
    keys, date_col, target = list(mapping.keys), mapping.date, mapping.target
    shown = [*keys, date_col, target]

    # Series keys are text ('NA', 'None' and 'null' are values) and must be present.
    for key in keys:
        frame[key] = _key_text(frame[key])
    missing_key = frame[keys].isna().any(axis=1) | frame[keys].eq("").any(axis=1)
    if missing_key.any():
        if repairs.drop_missing_keys:
            notes.append(M_("Dropped {n:,} row(s) with an empty series key.", n=int(missing_key.sum())))
            frame = frame.loc[~missing_key]
        else:
            problems.append(Problem(
                "missing_keys", M_("{n:,} row(s) have an empty {keys}: they belong to no series. Fill them in the "
                                   "file, or drop these rows.", n=int(missing_key.sum()), keys=", ".join(keys)),
                int(missing_key.sum()), _examples(frame, missing_key, shown), "drop_missing_keys",
            ))
    _require_rows(frame, problems)

    # Dates, read by the whole column (day/month order, offsets, Excel serials).
    series = series_ids(frame, keys)
    dates = parse_dates(frame[date_col], mapping.freq, series, date_col)
    if dates.fact:
        notes.append(dates.fact)
    parsed = dates.values
    bad_date = parsed.isna()
    if bad_date.mean() > 0.5:
        problems.append(Problem(
            "not_a_date", M_("Column '{column}' does not look like a date: {share:.0%} of its values "
                             "cannot be read as dates (for example 2024-04-01, 2024/04/01 or 2024年4月1日). Choose "
                             "the column that holds the dates.", column=date_col, share=float(bad_date.mean())),
            int(bad_date.sum()), _examples(frame, bad_date, shown),
        ))
        raise _Blocked
    if bad_date.any():
        if repairs.drop_bad_dates:
            notes.append(M_("Dropped {n:,} row(s) whose date could not be read.", n=int(bad_date.sum())))
            frame, parsed = frame.loc[~bad_date], parsed.loc[~bad_date]
            _require_rows(frame, problems)
        else:
            problems.append(Problem(
                "bad_dates", M_("{n:,} row(s) have a date that cannot be read. Correct them in the file, or drop "
                                "these rows.", n=int(bad_date.sum())),
                int(bad_date.sum()), _examples(frame, bad_date, shown), "drop_bad_dates",
            ))
    frame[date_col] = parsed

    # Target: numeric (as exported: thousands separators, full-width, ¥), present, not negative.
    numbers = parse_numbers(frame[target], decimal_comma, target)
    if numbers.fact:
        notes.append(numbers.fact)
    values = numbers.values
    if values.notna().mean() < 0.5:
        problems.append(Problem(
            "target_not_numeric", M_("Column '{column}' is not a number in {share:.0%} of rows, so it cannot be "
                                     "the target. Choose the column with the quantity to forecast (units sold, "
                                     "sales).", column=target, share=float(values.isna().mean())),
            int(values.isna().sum()), _examples(frame, values.isna(), shown),
        ))
        raise _Blocked
    bad_target = values.isna()
    if bad_target.any():
        if repairs.bad_targets == "drop":
            notes.append(M_("Dropped {n:,} row(s) with an empty or non-numeric target.", n=int(bad_target.sum())))
            frame, values = frame.loc[~bad_target], values.loc[~bad_target]
            _require_rows(frame, problems)
        elif repairs.bad_targets == "zero":
            notes.append(M_("Set {n:,} empty or non-numeric target value(s) to 0.", n=int(bad_target.sum())))
            values = values.fillna(0.0)
        else:
            problems.append(Problem(
                "bad_targets", M_("{n:,} row(s) have an empty or non-numeric '{column}'. Correct them in the file, "
                                  "drop these rows, or count them as 0.", n=int(bad_target.sum()), column=target),
                int(bad_target.sum()), _examples(frame, bad_target, shown), "bad_targets", ("drop", "zero"),
            ))
    negative = values < 0
    if negative.any():
        if repairs.negatives == "zero":
            notes.append(M_("Set {n:,} negative target value(s) (returns?) to 0.", n=int(negative.sum())))
            values = values.clip(lower=0)
        elif repairs.negatives == "drop":
            notes.append(M_("Dropped {n:,} row(s) with a negative target.", n=int(negative.sum())))
            frame, values = frame.loc[~negative], values.loc[~negative]
            _require_rows(frame, problems)
        else:
            problems.append(Problem(
                "negative_targets", M_("{n:,} row(s) have a negative '{column}' (returns or corrections?). Demand "
                                       "cannot be negative: set them to 0 or drop them.", n=int(negative.sum()),
                                       column=target),
                int(negative.sum()), _examples(frame, negative, shown), "negatives", ("zero", "drop"),
            ))
    frame[target] = values.astype(float)

    # Value columns: numbers or yes/no flags.
    for column in [*mapping.exog_known, *mapping.exog_unknown, *[c for c in (mapping.stockout, mapping.orders) if c]]:
        flags, note = _to_flag(frame[column], decimal_comma, column)
        if note:
            notes.append(note)  # a message
        not_numeric = flags.isna() & frame[column].notna()
        if not_numeric.any():
            problems.append(Problem(
                "exog_not_numeric", M_("Column '{column}' holds text that is not a number or yes/no (for example "
                                       "'{example}'). Models need numbers: leave this column out, or map it as a "
                                       "series attribute if it describes the series.", column=column,
                                       example=str(frame.loc[not_numeric, column].iloc[0])),
                int(not_numeric.sum()), _examples(frame, not_numeric, [*shown, column]),
            ))
            continue
        empty = flags.isna()
        if empty.any():
            if repairs.fill_missing_exog:
                notes.append(M_("Filled {n:,} empty value(s) of '{column}' with 0.", n=int(empty.sum()),
                                column=column))
                flags = flags.fillna(0.0)
            else:
                problems.append(Problem(
                    "missing_exog", M_("Column '{column}' is empty in {n:,} row(s). Fill them in the file, or fill "
                                       "them with 0.", column=column, n=int(empty.sum())),
                    int(empty.sum()), _examples(frame, empty, [*shown, column]), "fill_missing_exog",
                ))
        frame[column] = flags
    if problems:
        raise _Blocked

    # Frequency and the period grid.
    series = series_ids(frame, keys)
    freq = mapping.freq or infer_freq(frame[date_col], series)
    if freq is None and series.nunique() == len(series):
        problems.append(Problem(
            "one_row_per_series", M_("Every series has a single date: the series key {keys} seems to identify "
                                     "rows, not series. Choose the columns that identify a series (for example "
                                     "store and item), or check that this is a sales table.", keys=Fmt("names", list(keys))),
            len(series), frame[[*keys, date_col]].head(EXAMPLES),
        ))
        raise _Blocked
    if freq is None:
        problems.append(Problem(
            "unknown_freq", M_("The frequency cannot be inferred from the dates (no regular daily, weekly or "
                               "monthly step). Choose the frequency yourself."),
            0, frame[[*keys, date_col]].head(EXAMPLES),
        ))
        raise _Blocked
    frame, problem = _align(frame, series, date_col, freq, repairs, notes)
    if problem:
        problems.append(problem)
        raise _Blocked

    # One row per series and period.
    duplicated = frame.duplicated([*keys, date_col], keep=False)
    if duplicated.any():
        if repairs.duplicates:
            before = len(frame)
            frame = _merge_duplicates(frame, keys, date_col, [target, *filter(None, [mapping.orders])],
                                      repairs.duplicates)
            notes.append(_merged_note(repairs.duplicates, before, len(frame)))
        else:
            problems.append(Problem(
                "duplicates", M_("{n:,} rows share a series and a date with another row. A series has one value "
                                 "per date: fix the file, or merge them (sum for sales split over several lines, "
                                 "last for corrections).", n=int(duplicated.sum())),
                int(duplicated.sum()), _examples(frame.sort_values([*keys, date_col]), duplicated, shown),
                "duplicates", ("sum", "mean", "last"),
            ))
            raise _Blocked

    # Attributes describe a series: one value per series.
    for column in mapping.attributes:
        varying = frame.groupby(keys)[column].nunique(dropna=False) > 1
        if varying.any():
            bad = frame.set_index(keys).index.isin(varying[varying].index)
            problems.append(Problem(
                "attribute_varies", M_("Column '{column}' changes within {n:,} series, so it cannot be a series "
                                       "attribute. Make it part of the series key, or leave it out.", column=column,
                                       n=int(varying.sum())),
                int(varying.sum()), _examples(frame, pd.Series(bad, index=frame.index), [*shown, column]),
            ))
    if problems:
        raise _Blocked

    frame = frame.sort_values([*keys, date_col]).reset_index(drop=True)
    if check_length:  # an append continues series already checked
        frame = _aggregates(frame, keys, list(mapping.attributes), date_col, target, repairs, problems, notes)
    frame = _fill_gaps(frame, keys, date_col, target, freq, mapping, repairs, problems, notes)
    if check_length:
        frame = _drop_short(frame, keys, date_col, freq, repairs, problems, notes)
    return frame, freq


def _merged_note(how: str, before: int, after: int) -> Msg:
    """What merging duplicate rows did, by the rule chosen (sum, mean or last)."""
    if how == "sum":
        return M_("Merged duplicate (series, date) rows by taking the sum: {before:,} rows became {after:,}.",
                  before=before, after=after)
    if how == "mean":
        return M_("Merged duplicate (series, date) rows by taking the mean: {before:,} rows became {after:,}.",
                  before=before, after=after)
    return M_("Merged duplicate (series, date) rows by taking the last: {before:,} rows became {after:,}.",
              before=before, after=after)


def _key_text(values: pd.Series) -> pd.Series:
    """A key column as text: store 1001 stays '1001' even where Excel or Parquet typed the
    column as floats (1001.0) because of an empty cell."""
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        if present.eq(present.round()).all():
            values = values.astype("Int64")
    return values.astype("string").str.strip()


def _require_rows(frame: pd.DataFrame, problems: list[Problem]) -> None:
    """Stop when a repair (or the file) leaves no row to import."""
    if frame.empty:
        problems.append(Problem(
            "no_rows_left", M_("No row is left to import: every row was dropped by the repairs chosen (or had no "
                               "usable value). Untick a repair that drops rows, or check the column roles."),
            0, pd.DataFrame(),
        ))
        raise _Blocked


def _period_index(dates: pd.Series, freq: Freq) -> np.ndarray:
    """Integer period number of each date: days, weeks or months since the epoch."""
    if freq == Freq.MONTHLY:
        return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()
    days = (dates - pd.Timestamp("1970-01-05")).dt.days.to_numpy()  # 1970-01-05 is a Monday
    return days // 7 if freq == Freq.WEEKLY else days


def _align(
    frame: pd.DataFrame, series: pd.Series, date_col: str, freq: Freq, repairs: Repairs, notes: list[Msg]
) -> tuple[pd.DataFrame, Problem | None]:
    """Dates must sit on the period grid: midnight; weeks on one weekday; months on the 1st."""
    dates = frame[date_col]
    if freq == Freq.MONTHLY:
        aligned = dates.dt.to_period("M").dt.to_timestamp()
        if (aligned != dates).any():
            notes.append(M_("Monthly dates were set to the first day of their month."))
        return frame.assign(**{date_col: aligned}), None
    if freq == Freq.DAILY:
        off = dates != dates.dt.normalize()
        snapped = dates.dt.normalize()
    else:
        weekday = dates.dt.day_of_week
        off = weekday != weekday.groupby(series.to_numpy()).transform(lambda w: w.mode().iloc[0])
        snapped = _monday_of_week(dates)
    if not off.any():
        return (_one_weekly_grid(frame, series, date_col, notes), None) if freq == Freq.WEEKLY else (frame, None)
    n = int(off.sum())
    if repairs.align_dates:
        if freq == Freq.DAILY:
            notes.append(M_("Moved {n:,} date(s) that carry a time of day onto the daily grid (their day).", n=n))
        else:
            notes.append(M_("Moved {n:,} date(s) that fall on another weekday than the rest of their series onto "
                            "the weekly grid (Monday of their week).", n=n))
        return frame.assign(**{date_col: snapped}), None
    if freq == Freq.DAILY:
        message = M_("{n:,} date(s) carry a time of day. For daily data each series needs one date per period: "
                     "correct the file, or move them onto the grid (then merge any duplicates this makes).", n=n)
    else:
        message = M_("{n:,} date(s) fall on another weekday than the rest of their series. For weekly data each "
                     "series needs one date per period: correct the file, or move them onto the grid (then merge "
                     "any duplicates this makes).", n=n)
    return frame, Problem(
        "off_grid", message, n, _examples(frame, off, [*frame.columns[: len(frame.columns)]]), "align_dates",
    )


def _one_weekly_grid(frame: pd.DataFrame, series: pd.Series, date_col: str, notes: list[Msg]) -> pd.DataFrame:
    """Weekly series that each keep one weekday but not the same one (one store's system
    dates a week by its Sunday, another's by its Friday) are put on one grid: every date
    moves to the Monday of its ISO week (Monday to Sunday), so each week stays one period
    and every series is scored on the same dates."""
    weekday = frame[date_col].dt.day_of_week
    per_series = weekday.groupby(series.to_numpy()).first()
    if per_series.nunique() < 2:
        return frame
    counts = per_series.value_counts()
    named = [M_("{weekday} ({n:,} series)", weekday=words.weekday(int(d)), n=int(n)) for d, n in counts.items()]
    notes.append(M_("The weekly dates fall on different weekdays by series: {named}. Each date was moved to the "
                    "Monday of its week (weeks run Monday to Sunday, so a week dated by its Sunday is taken as the "
                    "week ending that Sunday), and all series share one weekly grid; a week's sales are unchanged. "
                    "If a system dates its weeks by the Sunday they start on, shift its dates by a day in the file "
                    "first.", named=_joined(named)))
    return frame.assign(**{date_col: _monday_of_week(frame[date_col])})


def _joined(parts: Sequence[Msg | str]) -> Msg | str:
    """Parts joined by commas (a list of any length), in the reader's language."""
    if not parts:
        return ""
    joined: Msg | str = parts[0]
    for part in parts[1:]:
        joined = M_("{first}, {second}", first=joined, second=part)
    return joined


def _monday_of_week(dates: pd.Series) -> pd.Series:
    """The Monday that starts each date's ISO week (Monday to Sunday), at midnight."""
    return dates.dt.normalize() - pd.to_timedelta(dates.dt.day_of_week, unit="D")


def _merge_duplicates(
    frame: pd.DataFrame, keys: list[str], date_col: str, quantities: list[str], how: str
) -> pd.DataFrame:
    """Quantities (target, orders) are merged as asked; prices and flags by their mean
    (a sum of prices means nothing), or their last value when the user chose 'last'."""
    others = [c for c in frame.columns if c not in (*keys, date_col, *quantities)]
    agg = {c: how for c in quantities} | {
        c: ("mean" if how != "last" and pd.api.types.is_numeric_dtype(frame[c]) else "last") for c in others
    }
    return frame.groupby([*keys, date_col], as_index=False, sort=False).agg(agg)


def _fill_gaps(
    frame: pd.DataFrame, keys: list[str], date_col: str, target: str, freq: Freq,
    mapping: ColumnMapping, repairs: Repairs, problems: list[Problem], notes: list[Msg],
) -> pd.DataFrame:
    period = _period_index(frame[date_col], freq)
    group = frame.groupby(keys, sort=False).ngroup().to_numpy()
    step = np.diff(period)
    same = group[1:] == group[:-1]
    gap_after = np.flatnonzero(same & (step > 1))
    if gap_after.size == 0:
        return frame
    missing_periods = int((step[gap_after] - 1).sum())
    if missing_periods > len(frame):
        # More invented periods than real rows: the frequency (or the reading of the dates)
        # is wrong, and no repair may fill a calendar that the data never had.
        problems.append(Problem(
            "gaps_exceed_data", M_("{n:,} {freq} period(s) are missing, more than the {rows:,} rows the file has: "
                                   "filling them would invent most of the data, so no repair is offered. The data "
                                   "is probably not {freq}, or its dates were misread: choose the frequency that "
                                   "matches the dates (or 'infer from the dates') and check how the notes say the "
                                   "dates were read.", n=missing_periods, freq=words.freq_word(freq), rows=len(frame)),
            missing_periods, frame.iloc[gap_after][[*keys, date_col]].head(EXAMPLES).reset_index(drop=True),
        ))
        raise _Blocked
    if repairs.fill_gaps is None:
        examples = frame.iloc[gap_after][[*keys, date_col]].head(EXAMPLES).copy()
        examples["next date in file"] = frame.iloc[gap_after + 1][date_col].head(EXAMPLES).to_numpy()
        examples["missing periods"] = (step[gap_after] - 1)[:EXAMPLES]
        n_series = len(np.unique(group[gap_after]))
        problems.append(Problem(
            "gaps", M_("{n:,} {freq} period(s) are missing inside {series:,} series (a date with no row). "
                       "Forecasts need a complete calendar: add the rows, fill them with 0 (no sales that day), or "
                       "interpolate (the value was not recorded).", n=missing_periods, freq=words.freq_word(freq),
                       series=n_series),
            missing_periods, examples.reset_index(drop=True), "fill_gaps", ("zero", "interpolate"),
        ))
        return frame
    # Build the full grid of each series from its first to its last period; the frame
    # is sorted by series then date, so each series is one contiguous block.
    starts = np.r_[0, np.flatnonzero(~same) + 1]
    ends = np.r_[starts[1:] - 1, len(period) - 1]
    counts = period[ends] - period[starts] + 1
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = frame.iloc[np.repeat(starts, counts)][keys].reset_index(drop=True)
    if freq == Freq.MONTHLY:
        months = np.repeat(period[starts], counts) + offsets
        grid[date_col] = pd.to_datetime({"year": months // 12, "month": months % 12 + 1, "day": 1})
    else:
        first = frame[date_col].to_numpy()[np.repeat(starts, counts)]
        grid[date_col] = first + pd.to_timedelta(offsets * (7 if freq == Freq.WEEKLY else 1), unit="D").to_numpy()
    filled = grid.merge(frame, on=[*keys, date_col], how="left")
    if repairs.fill_gaps == "zero":
        filled[target] = filled[target].fillna(0.0)
        note = M_("Filled {n:,} missing {freq} period(s) with 0.", n=missing_periods, freq=words.freq_word(freq))
    else:
        filled[target] = filled.groupby(keys, sort=False)[target].transform(lambda s: s.interpolate())
        note = M_("Filled {n:,} missing {freq} period(s) by linear interpolation.", n=missing_periods,
                  freq=words.freq_word(freq))
    for column in [*mapping.exog_known, *mapping.exog_unknown, *[c for c in (mapping.stockout, mapping.orders) if c]]:
        filled[column] = filled[column].fillna(0.0)
    for column in mapping.attributes:
        filled[column] = filled.groupby(keys, sort=False)[column].transform("first")
    notes.append(note)
    return filled


# A series is a sum of others when, on nearly every date, it is half of its group's total (itself plus
# the rest): within 0.1 %, on at least 98 % of the dates where the group sold, and 7 such dates or more.
AGGREGATE_TOLERANCE, AGGREGATE_SHARE, AGGREGATE_MIN_DATES = 1e-3, 0.98, 7


def _aggregates(
    frame: pd.DataFrame, keys: list[str], attributes: list[str], date_col: str, target: str,
    repairs: Repairs, problems: list[Problem], notes: list[Msg],
) -> pd.DataFrame:
    """Series that are the sum of the other series of their group — a file that holds two levels of
    a hierarchy (M5's states beside their stores, a chain total beside its stores): every total over
    the file would count their sales twice. The groups tried: every series together, each value of
    each attribute and, with several keys, of each key (all the items of a store). A problem unless
    the user chose to leave them out (``Repairs.aggregates == "drop"``) or keep them ("keep")."""
    series = frame.groupby(keys, sort=False).ngroup().to_numpy()
    n_series = int(series.max()) + 1 if len(series) else 0
    if n_series < 3:
        return frame
    y = frame[target].to_numpy(dtype=float, na_value=np.nan)
    found: dict[int, tuple[str | None, object, int]] = {}  # series -> (column, value, members of the group)
    groupings = [None, *(keys if len(keys) > 1 else []), *attributes]
    for column in groupings:
        by = [date_col] if column is None else [column, date_col]
        total = frame.groupby(by, sort=False, dropna=False)[target].transform("sum").to_numpy(dtype=float,
                                                                                             na_value=np.nan)
        sold = np.isfinite(total) & (total != 0)
        match = sold & np.isfinite(y) & (np.abs(2 * y - total) <= AGGREGATE_TOLERANCE * np.abs(total))
        dates = np.bincount(series, weights=sold, minlength=n_series)
        share = np.divide(np.bincount(series, weights=match, minlength=n_series), dates, out=np.zeros(n_series),
                          where=dates > 0)
        values = frame[column].to_numpy() if column is not None else None
        first_row = np.unique(series, return_index=True)[1]
        if column is None:
            members = np.full(n_series, n_series)
        else:
            value_of = pd.Series(values[first_row])
            members = value_of.map(value_of.value_counts(dropna=False)).to_numpy()
        hit = (share >= AGGREGATE_SHARE) & (dates >= AGGREGATE_MIN_DATES) & (members >= 3)
        for code in np.flatnonzero(hit):
            found.setdefault(int(code), (column, None if column is None else values[first_row[code]],
                                         int(members[code])))
    if not found:
        return frame
    codes = np.array(sorted(found))
    rows = np.isin(series, codes)
    ids = frame.loc[rows, keys].drop_duplicates()
    if repairs.aggregates == "drop":
        notes.append(M_("Left out {n:,} series that are sums of other series in the file (a level above them in a "
                        "hierarchy); the totals count each sale once.", n=len(codes)))
        return frame.loc[~rows].reset_index(drop=True)
    if repairs.aggregates == "keep":
        notes.append(M_("Kept {n:,} series that are sums of other series in the file: totals over every series "
                        "count their sales twice.", n=len(codes)))
        return frame
    first_row = np.unique(series, return_index=True)[1]
    examples = frame.iloc[first_row[codes[:EXAMPLES]]][keys].reset_index(drop=True)
    examples["sum of"] = [str(M_("every other series") if found[c][0] is None else
                              M_("the {n} other series with {column} '{value}'", n=found[c][2] - 1,
                                 column=found[c][0], value=str(found[c][1])))
                          for c in codes[:EXAMPLES]]
    problems.append(Problem(
        "aggregate_series", M_("{n:,} series are the sums of other series in the file (two levels of a hierarchy, "
                               "such as states beside their stores): every total would count their sales twice. "
                               "Leave them out, or keep them if you mean to.", n=len(ids)),
        len(ids), examples, "aggregates", ("drop", "keep"),
    ))
    return frame


def _drop_short(
    frame: pd.DataFrame, keys: list[str], date_col: str, freq: Freq,
    repairs: Repairs, problems: list[Problem], notes: list[Msg],
) -> pd.DataFrame:
    lengths = frame.groupby(keys, sort=False)[date_col].transform("size")
    short = lengths < freq.min_history
    if not short.any():
        return frame
    n_short = frame.loc[short, keys].drop_duplicates().shape[0]
    if short.all():
        problems.append(Problem(
            "all_short", M_("Every series has fewer than {most} {freq} periods, too few to train a model and test "
                            "it on later dates. Import a longer history, or check the frequency.",
                            most=freq.min_history, freq=words.freq_word(freq)),
            n_short, frame.loc[short, [*keys, date_col]].drop_duplicates(keys).head(EXAMPLES),
        ))
        return frame
    if repairs.drop_short_series:
        notes.append(M_("Dropped {n:,} series with fewer than {most} {freq} periods.", n=n_short,
                        most=freq.min_history, freq=words.freq_word(freq)))
        return frame.loc[~short].reset_index(drop=True)
    examples = frame.loc[short].groupby(keys, as_index=False).agg(
        first_date=(date_col, "min"), periods=(date_col, "size")).head(EXAMPLES)
    problems.append(Problem(
        "short_series", M_("{n:,} series have fewer than {most} {freq} periods, too few to backtest (new items?). "
                           "Drop them, or import a longer history.", n=n_short, most=freq.min_history,
                           freq=words.freq_word(freq)),
        n_short, examples, "drop_short_series",
    ))
    return frame


# ---------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------
def import_table(
    warehouse: Warehouse, raw: RawTable, mapping: ColumnMapping, repairs: Repairs = Repairs(), name: str | None = None
) -> Dataset:
    """Validate and store ``raw`` as a new dataset; raise with every problem if blocked."""
    report = validate(raw, mapping, repairs, name)
    if not report.ok:
        raise ImportProblemError(_refusal(report.problems, appended=False), list(report.problems))
    return warehouse.create_dataset(report.spec, report.frame, notes=report.note_facts)


def _refusal(problems: Sequence[Problem], appended: bool) -> Msg:
    """Why a file was not imported (or appended): its first problem, and how many more."""
    if not problems:
        return M_("Not appended: nothing to append") if appended else M_("Not imported: nothing to import")
    first, more = problems[0].text, len(problems) - 1
    if appended:
        if more:
            return M_("Not appended: {problem} (and {n} more problem(s))", problem=first, n=more)
        return M_("Not appended: {problem}", problem=first)
    if more:
        return M_("Not imported: {problem} (and {n} more problem(s))", problem=first, n=more)
    return M_("Not imported: {problem}", problem=first)


# ---------------------------------------------------------------------------------
# Append
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppendColumns:
    """How a file's columns meet a dataset's: ``found`` maps each dataset column (its
    warehouse name) to the file's column; ``missing`` are dataset columns the file lacks;
    ``ignored`` are file columns the dataset does not have."""

    found: Mapping[str, str]
    missing: tuple[str, ...]
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class AppendReport:
    """What appending a file to a dataset would do, or what blocks it.

    ``frame`` (when nothing blocks) has the dataset's columns — keys, ``ds``, ``y``, then
    its value columns — ready for ``Warehouse.append_rows``. Notes and warnings are kept as
    messages (``note_facts``, ``warning_facts``) and read in the current language as
    ``notes`` and ``warnings``. ``warnings`` do not block
    but the user should read them before appending. ``info``: rows, series, new_series,
    start, end (dates of the rows to append), overlap (rows whose series and date are
    stored already), overlap_changed (of those, rows whose target differs), overlap_first,
    overlap_last, frequency (its English word; people read ``Freq.text``).
    """

    problems: tuple[Problem, ...]
    note_facts: tuple[Msg, ...]
    warning_facts: tuple[Msg, ...] = ()
    frame: pd.DataFrame | None = None
    info: Mapping[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and self.frame is not None

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(render(note) for note in self.note_facts)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(render(warning) for warning in self.warning_facts)


def _norm(name: object) -> str:
    """A column name as compared across files: sanitised like ``safe_names``, lower case."""
    return re.sub(r"\W+", "_", str(name).strip()).strip("_").lower()


def _shown_name(spec: DatasetSpec, column: str) -> str:
    """A dataset column by the name the user's file gave it."""
    return str(spec.original_names.get(column, column))


def append_columns(columns: Sequence[str], dataset: Dataset) -> AppendColumns:
    """Match a file's columns to ``dataset``'s by the names the user knows: the name in the
    file the dataset was imported from (``spec.original_names``) or the warehouse's
    sanitised name, ignoring case, spaces and punctuation ('Units Sold' = 'units_sold')."""
    spec = dataset.spec
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(_norm(column), column)
    found: dict[str, str] = {}
    for column, _role in spec.roles():
        for candidate in (spec.original_names.get(column), column):
            if candidate is not None and _norm(candidate) in by_norm:
                found[column] = by_norm[_norm(candidate)]
                break
    missing = tuple(c for c, _ in spec.roles() if c not in found)
    used = set(found.values())
    return AppendColumns(found=found, missing=missing, ignored=tuple(c for c in columns if c not in used))


def validate_append(
    warehouse: Warehouse, dataset: Dataset, raw: RawTable, repairs: Repairs = Repairs()
) -> AppendReport:
    """Check the rows of ``raw`` as new rows of ``dataset``; apply only the repairs asked for.

    The row checks are an import's (keys, dates read as the file wrote them, targets and
    value columns as numbers incl. a decimal comma, negatives, the dataset's frequency
    grid, duplicates, gaps inside the file), with the dataset's frequency imposed. Then,
    against the stored data: no date before the dataset starts; weekly dates on the
    dataset's weekday; attributes equal to the stored ones (taken from the dataset where
    the file has none); no missing period between a series' last stored date and its first
    date in the file (fill it with ``Repairs.fill_gaps``). Columns the dataset does not
    have are ignored (a note names them): a chain's weekly export often carries columns
    that were not imported, and refusing them would mean editing every file by hand.
    Reads the warehouse, writes nothing.
    """
    spec = dataset.spec
    problems: list[Problem] = []
    notes: list[Msg] = list(raw.note_facts)
    warnings: list[Msg] = []
    frame = raw.frame
    try:
        if (refusal := _not_a_sales_history(frame, raw.decimal_comma)) is not None:
            problems.append(refusal)
            raise _Blocked
        matched = append_columns(list(frame.columns), dataset)
        _check_append_columns(frame, dataset, matched, problems, notes)
        found = matched.found
        mapping = ColumnMapping(
            keys=tuple(found[k] for k in spec.keys), date=found[DATE], target=found[TARGET],
            attributes=tuple(found[c] for c in spec.attributes if c in found),
            exog_known=tuple(found[c] for c in spec.exog_known),
            exog_unknown=tuple(found[c] for c in spec.exog_unknown),
            stockout=found.get(spec.stockout) if spec.stockout else None,
            orders=found.get(spec.orders) if spec.orders else None,
            freq=dataset.freq,
        )
        try:
            used = _check_mapping(frame, mapping)
        except ImportProblemError as error:
            problems.append(Problem("mapping", error.args[0], 0, pd.DataFrame()))
            raise _Blocked from error
        _check_append_freq(used, mapping, dataset, problems)
        used, _ = _validate_rows(used, mapping, repairs, problems, notes, decimal_comma=raw.decimal_comma,
                                 check_length=False)
        if problems:
            raise _Blocked
        used = used.rename(columns={v: k for k, v in found.items()})
        used = _on_dataset_grid(used, dataset, repairs, problems, notes)
        _check_start(used, dataset, problems)
        stored = _stored_series(warehouse, dataset)
        used = _attributes_against_stored(used, dataset, stored, problems)
        used = _gap_after_end(used, dataset, stored, repairs, problems, notes)
    except _Blocked:
        return AppendReport(problems=tuple(problems), note_facts=tuple(notes), warning_facts=tuple(warnings))
    if problems:
        return AppendReport(problems=tuple(problems), note_facts=tuple(notes), warning_facts=tuple(warnings))
    columns = [*spec.keys, DATE, TARGET, *spec.value_columns()]
    used = used.sort_values([*spec.keys, DATE])[columns].reset_index(drop=True)
    ids = series_ids(used, spec.keys)
    overlap = _overlap(warehouse, dataset, used, ids)
    first_new = used[DATE].min().date()
    end = dataset.end_date
    periods = _period_index(pd.Series(pd.to_datetime([end, first_new])), dataset.freq)
    if periods[1] - periods[0] > 1:
        warnings.append(M_("The file starts on {start}, more than one {freq} period after '{name}' ends ({end}): "
                           "no series has rows from {first} to {last}.", start=words.day(first_new),
                           freq=words.freq_word(dataset.freq), name=dataset.name, end=words.day(end),
                           first=words.day(pd.Timestamp(end) + _one_period(dataset.freq)),
                           last=words.day(used[DATE].min() - _one_period(dataset.freq))))
    warnings.extend(_not_continued(dataset, stored, ids))
    info = {
        "rows": len(used),
        "series": int(ids.nunique()),
        "new_series": int((~ids.isin(stored[SERIES_ID])).groupby(ids).first().sum()),
        "start": first_new,
        "end": used[DATE].max().date(),
        "frequency": dataset.freq.label,
        **overlap,
    }
    return AppendReport(problems=(), note_facts=tuple(notes), warning_facts=tuple(warnings), frame=used, info=info)


def append_table(warehouse: Warehouse, dataset: Dataset, raw: RawTable, repairs: Repairs = Repairs(),
                 replace: bool = False) -> Appended:
    """Validate ``raw`` (``validate_append``) and append its rows to ``dataset`` in one
    transaction. Raises ``ImportProblemError`` with every problem if blocked, and
    ``AppendOverlapError`` when rows overlap stored ones and ``replace`` is False."""
    report = validate_append(warehouse, dataset, raw, repairs)
    if not report.ok:
        raise ImportProblemError(_refusal(report.problems, appended=True), list(report.problems))
    return warehouse.append_rows(dataset.dataset_id, report.frame, replace=replace, source=appended_source(raw))


def appended_source(raw: RawTable) -> Msg:
    """What an append's log says it came from ("appended: week.csv")."""
    return M_("appended: {file}", file=raw.file_name)


def _one_period(freq: Freq) -> pd.DateOffset:
    return {Freq.DAILY: pd.DateOffset(days=1), Freq.WEEKLY: pd.DateOffset(weeks=1),
            Freq.MONTHLY: pd.DateOffset(months=1)}[freq]


def _check_append_columns(frame: pd.DataFrame, dataset: Dataset, matched: AppendColumns,
                          problems: list[Problem], notes: list[Msg]) -> None:
    """Key, date and target columns must be there; so must the value columns, or the
    appended rows would have holes a model reads as values. Attributes may be left out
    (the stored ones are used). Extra columns are ignored, and said so."""
    spec = dataset.spec
    head = _examples(frame, frame.index < EXAMPLES, list(frame.columns))
    needed = [c for c in (*spec.keys, DATE, TARGET) if c in matched.missing]
    if needed:
        names = ", ".join(f"'{_shown_name(spec, c)}'" for c in needed)
        placing = ", ".join(f"'{_shown_name(spec, c)}'" for c in (*spec.keys, DATE, TARGET))
        problems.append(Problem(
            "missing_columns", M_("The file has no column {names}, which '{name}' needs to place each row (its series "
                                  "key, date and target are {placing}). The file's columns are {columns}: name them "
                                  "as in the dataset.", names=names, name=dataset.name, placing=placing,
                                  columns=", ".join(map(str, frame.columns))),
            len(needed), head,
        ))
        raise _Blocked
    values = [c for c in spec.value_columns() if c in matched.missing and c not in spec.attributes]
    if values:
        names = ", ".join(f"'{_shown_name(spec, c)}'" for c in values)
        problems.append(Problem(
            "missing_value_columns", M_("The file has no column {names}, which every row of '{name}' has: appended "
                                        "rows without them would leave holes the models read as values. Add the "
                                        "column(s) to the file (as exported for the first import).", names=names,
                                        name=dataset.name),
            len(values), head,
        ))
        raise _Blocked
    if matched.ignored:
        notes.append(M_("Column(s) {columns} are not in '{name}' and are ignored: a dataset keeps the columns it was "
                        "imported with.", columns=", ".join(map(str, matched.ignored)), name=dataset.name))


def _check_append_freq(frame: pd.DataFrame, mapping: ColumnMapping, dataset: Dataset,
                       problems: list[Problem]) -> None:
    """Refuse a file whose dates step at another frequency than the dataset's (a daily file
    for a weekly dataset), before the gap checks would call every day of a week missing."""
    keys = list(mapping.keys)
    text = frame[keys].apply(_key_text)
    series = series_ids(text, keys)
    dates = parse_dates(frame[mapping.date], dataset.freq, series, mapping.date).values
    readable = dates.notna()
    inferred = infer_freq(dates[readable], series[readable]) if readable.any() else None
    if inferred is not None and inferred != dataset.freq:
        problems.append(Problem(
            "wrong_freq", M_("The file's dates are {found} (most series step by one {found} period), but '{name}' is "
                             "{freq}. Append a {freq} file, or import this one as a dataset of its own.",
                             found=words.freq_word(inferred), name=dataset.name, freq=words.freq_word(dataset.freq)),
            int(readable.sum()), _examples(frame, frame.index.isin(frame.index[:EXAMPLES]), [*keys, mapping.date]),
        ))
        raise _Blocked


def _on_dataset_grid(frame: pd.DataFrame, dataset: Dataset, repairs: Repairs,
                     problems: list[Problem], notes: list[Msg]) -> pd.DataFrame:
    """Weekly rows must fall on the weekday the dataset's weeks are dated by (the file's
    own grid was checked by ``_align``; daily and monthly grids are the same everywhere)."""
    if dataset.freq != Freq.WEEKLY:
        return frame
    grid_day = dataset.start_date.weekday()
    off = frame[DATE].dt.day_of_week != grid_day
    if not off.any():
        return frame
    keys = list(dataset.spec.keys)
    if not repairs.align_dates:
        problems.append(Problem(
            "off_grid", M_("{n:,} date(s) fall on another weekday than the weeks of '{name}', which are dated by their "
                           "{weekday}. Correct the file, or move them to the {weekday} of their week (Monday to "
                           "Sunday).", n=int(off.sum()), name=dataset.name, weekday=words.weekday(grid_day)),
            int(off.sum()), _examples(frame, off, [*keys, DATE, TARGET]), "align_dates",
        ))
        raise _Blocked
    frame = frame.assign(**{DATE: _monday_of_week(frame[DATE]) + pd.Timedelta(days=grid_day)})
    notes.append(M_("Moved {n:,} date(s) to the {weekday} of their week, the weekday '{name}' dates its weeks by.",
                    n=int(off.sum()), weekday=words.weekday(grid_day), name=dataset.name))
    duplicated = frame.duplicated([*keys, DATE], keep=False)
    if duplicated.any():
        if not repairs.duplicates:
            problems.append(Problem(
                "duplicates", M_("{n:,} rows share a series and a week once moved to the dataset's weekday. Fix the "
                                 "file, or merge them (sum for sales split over several lines, last for "
                                 "corrections).", n=int(duplicated.sum())),
                int(duplicated.sum()), _examples(frame, duplicated, [*keys, DATE, TARGET]),
                "duplicates", ("sum", "mean", "last"),
            ))
            raise _Blocked
        quantities = [TARGET, *filter(None, [dataset.spec.orders])]
        frame = _merge_duplicates(frame, keys, DATE, quantities, repairs.duplicates)
    return frame


def _check_start(frame: pd.DataFrame, dataset: Dataset, problems: list[Problem]) -> None:
    early = frame[DATE] < pd.Timestamp(dataset.start_date)
    if early.any():
        problems.append(Problem(
            "before_start", M_("{n:,} row(s) are dated before '{name}' starts ({start}): from {first} to {last}. An "
                               "append adds dates after the dataset's start (new ones, or replacements of stored "
                               "ones); remove these rows, or import the whole history again as a new dataset.",
                               n=int(early.sum()), name=dataset.name, start=words.day(dataset.start_date),
                               first=words.day(frame.loc[early, DATE].min()),
                               last=words.day(frame.loc[early, DATE].max())),
            int(early.sum()), _examples(frame, early, [*dataset.spec.keys, DATE, TARGET]),
        ))
        raise _Blocked


def _stored_series(warehouse: Warehouse, dataset: Dataset) -> pd.DataFrame:
    """Each stored series: unique_id, first_date, last_date, last_y (the target on its last
    date) and its attributes' latest values (as text)."""
    attributes = "".join(f", CAST(arg_max({quote(c)}, {DATE}) AS VARCHAR) AS {quote(c)}"
                         for c in dataset.spec.attributes)
    frame = warehouse.query(
        f"SELECT {SERIES_ID}, min({DATE}) AS first_date, max({DATE}) AS last_date, arg_max({TARGET}, {DATE}) AS last_y"
        f"{attributes} FROM {quote(dataset.table_name)} GROUP BY {SERIES_ID}")
    return frame.astype({"first_date": "datetime64[ns]", "last_date": "datetime64[ns]"})


def _attributes_against_stored(frame: pd.DataFrame, dataset: Dataset, stored: pd.DataFrame,
                               problems: list[Problem]) -> pd.DataFrame:
    """An attribute describes a series: the file's value must be the stored one; where the
    file has no such column, existing series keep theirs and new series cannot be described."""
    spec = dataset.spec
    keys = list(spec.keys)
    ids = series_ids(frame, keys)
    lookup = stored.set_index(SERIES_ID)
    is_new = ~ids.isin(lookup.index)
    for column in spec.attributes:
        if column not in frame.columns:
            if is_new.any():
                problems.append(Problem(
                    "new_series_attributes", M_("{n:,} series are new to '{name}' and the file has no column "
                                                "'{column}' to describe them. Add the column to the file.",
                                                n=int(ids[is_new].nunique()), name=dataset.name,
                                                column=_shown_name(spec, column)),
                    int(ids[is_new].nunique()), _examples(frame, is_new & ~ids.duplicated(), [*keys, DATE]),
                ))
                raise _Blocked
            frame[column] = ids.map(lookup[column]).to_numpy()
            continue
        values = _key_text(frame[column])
        frame[column] = values
        before = ids.map(lookup[column])
        changed = ~is_new & before.notna() & (values.astype(object) != before.astype(object))
        if changed.any():
            shown = frame.loc[changed, [*keys, column]].assign(**{"in the dataset": before[changed]})
            shown = shown.drop_duplicates(keys)
            problems.append(Problem(
                "attribute_changed", M_("'{column}' of {n:,} series differs from the value '{name}' holds for them. "
                                        "An attribute describes a series and stays the same: correct the file, or "
                                        "leave the column out (the stored values are kept).",
                                        column=_shown_name(spec, column), n=int(shown.shape[0]), name=dataset.name),
                int(shown.shape[0]), _examples(shown, shown.index.isin(shown.index[:EXAMPLES]), list(shown.columns)),
            ))
    if problems:
        raise _Blocked
    return frame


def _gap_after_end(frame: pd.DataFrame, dataset: Dataset, stored: pd.DataFrame, repairs: Repairs,
                   problems: list[Problem], notes: list[Msg]) -> pd.DataFrame:
    """Periods missing between a series' last stored date and its first date in the file.

    Forecasts need a complete calendar (the models read a series' values in order, so a
    hole would shift every weekday and season), so the gap blocks the append as a gap
    inside an import does, unless the user fills it: with 0, or linearly from the last
    stored value to the file's first."""
    spec = dataset.spec
    keys, freq = list(spec.keys), dataset.freq
    frame = frame.sort_values([*keys, DATE]).reset_index(drop=True)
    ids = series_ids(frame, keys)
    first_rows = ~ids.duplicated()
    firsts = frame.loc[first_rows].assign(**{SERIES_ID: ids[first_rows].to_numpy()}).merge(
        stored[[SERIES_ID, "last_date", "last_y"]], on=SERIES_ID, how="inner")
    if firsts.empty:
        return frame
    missing = (_period_index(firsts[DATE], freq) - _period_index(firsts["last_date"], freq) - 1)
    gaps = firsts.loc[missing > 0].assign(missing=missing[missing > 0])
    if gaps.empty:
        return frame
    first_missing = (gaps["last_date"].min() + _one_period(freq)).date()
    last_missing = (gaps[DATE].max() - _one_period(freq)).date()
    total = int(gaps["missing"].sum())
    if repairs.fill_gaps is None:
        examples = gaps[[*keys, "last_date", DATE, "missing"]].rename(columns={
            "last_date": "last date stored", DATE: "first date in file", "missing": "missing periods"}).head(EXAMPLES)
        problems.append(Problem(
            "gap_after_end", M_("{n:,} {freq} period(s) are missing between the dataset's last dates and the file's "
                                "first ones, in {series:,} series (no rows from {first} to {last}). Forecasts need a "
                                "complete calendar: add the rows to the file, fill them with 0 (no sales those days), "
                                "or interpolate (the values were not recorded).", n=total, freq=words.freq_word(freq),
                                series=len(gaps), first=words.day(first_missing), last=words.day(last_missing)),
            total, examples.reset_index(drop=True), "fill_gaps", ("zero", "interpolate"),
        ))
        return frame
    # One row per missing period, each series' file row repeated and its date stepped back.
    counts = gaps["missing"].to_numpy()
    step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1  # 1..k within a series
    fill = gaps.loc[gaps.index.repeat(counts)].reset_index(drop=True)
    last = fill["last_date"]
    if freq == Freq.MONTHLY:
        months = _period_index(last, freq) + step
        fill[DATE] = pd.to_datetime({"year": months // 12, "month": months % 12 + 1, "day": 1})
    else:
        fill[DATE] = last + pd.to_timedelta(step * (7 if freq == Freq.WEEKLY else 1), unit="D")
    facts = dict(n=total, freq=words.freq_word(freq), first=words.day(first_missing), last=words.day(last_missing),
                 series=len(gaps))
    if repairs.fill_gaps == "zero":
        fill[TARGET] = 0.0
        note = M_("Filled {n:,} missing {freq} period(s) between the dataset's end and the file's start "
                  "({first} to {last}, {series:,} series) with 0.", **facts)
    else:
        share = step / (np.repeat(counts, counts) + 1)
        fill[TARGET] = fill["last_y"] + (fill[TARGET] - fill["last_y"]) * share
        note = M_("Filled {n:,} missing {freq} period(s) between the dataset's end and the file's start "
                  "({first} to {last}, {series:,} series) by linear interpolation from the last stored value to the "
                  "file's first.", **facts)
    for column in [c for c in spec.value_columns() if c not in spec.attributes]:
        fill[column] = 0.0
    notes.append(note)
    fill = fill[frame.columns]
    return pd.concat([frame, fill], ignore_index=True).sort_values([*keys, DATE]).reset_index(drop=True)


def _overlap(warehouse: Warehouse, dataset: Dataset, frame: pd.DataFrame, ids: pd.Series) -> dict[str, object]:
    """Rows of ``frame`` whose series and date the dataset stores already, counted against
    the stored rows of the file's date range: overlap, overlap_changed (the target
    differs), overlap_first, overlap_last (None when nothing overlaps)."""
    start, end = frame[DATE].min(), frame[DATE].max()
    stored = warehouse.query(
        f"SELECT {SERIES_ID}, {DATE}, {TARGET} AS stored_y FROM {quote(dataset.table_name)} "
        f"WHERE {DATE} BETWEEN ? AND ?", [start.date(), end.date()])
    stored[DATE] = pd.to_datetime(stored[DATE])
    mine = pd.DataFrame({SERIES_ID: ids.to_numpy(), DATE: frame[DATE].to_numpy(), TARGET: frame[TARGET].to_numpy()})
    both = mine.merge(stored, on=[SERIES_ID, DATE], how="inner")
    if both.empty:
        return {"overlap": 0, "overlap_changed": 0, "overlap_first": None, "overlap_last": None}
    changed = ~np.isclose(both[TARGET].to_numpy(float), both["stored_y"].to_numpy(float), equal_nan=True)
    return {"overlap": len(both), "overlap_changed": int(changed.sum()),
            "overlap_first": both[DATE].min().date(), "overlap_last": both[DATE].max().date()}


def _not_continued(dataset: Dataset, stored: pd.DataFrame, ids: pd.Series) -> list[Msg]:
    """A warning when series active on the dataset's last date are not in the file: they
    will read as ended (a published batch forecasts only series active on the last date)."""
    active = stored.loc[stored["last_date"] == pd.Timestamp(dataset.end_date), SERIES_ID]
    absent = active[~active.isin(ids)].sort_values()
    if absent.empty:
        return []
    examples = ", ".join(absent.head(3))
    return [M_("{n:,} of the {active:,} series with rows on the dataset's last date ({end}) are not in the file "
               "(for example {examples}): they will end on {end}, and a batch published afterwards will not "
               "forecast them, unless their rows are appended too.", n=len(absent), active=len(active),
               end=words.day(dataset.end_date), examples=examples)]
