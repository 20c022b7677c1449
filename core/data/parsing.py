"""Dates and numbers as users' systems export them, read into values with a note of every
choice made.

Retail exports write the same thing many ways: ``2/1/2022`` in the US is the 1st of
February, ``1,157`` from an Excel ``#,##0`` column is one thousand one hundred and
fifty-seven, ``2024-04-01T00:00:00+09:00`` is the 1st of April in Tokyo whatever the
instant is in UTC, and ``45383`` in an Excel column is a serial day number. Each parser
here returns the values and, when it had to decide something the user should know, a
note saying what it decided and why; the importer shows the notes and never guesses
silently.

Parsing works on a column's distinct values (a year of daily sales has 365 distinct dates
however many rows it has), then maps them back.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.columns import Freq
from core.data import words
from core.i18n import M_, Msg, render

# Text date formats tried in turn; the one that parses most values wins. Day-first and
# month-first forms of the same pattern are kept together as pairs, and a tie between
# them is decided by which reading puts the dates on a regular grid.
_DATE_FORMATS = (
    "ISO8601", "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y", "%m.%d.%Y", "%d-%m-%Y", "%m-%d-%Y", "%d/%m/%y", "%m/%d/%y",
    "%Y %b", "%b %Y", "%b-%y", "%b-%Y", "%Y-%m", "%Y/%m", "%Y年%m月", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y",
)
# Day-first format -> its month-first twin.
_DAY_MONTH_PAIRS = {
    "%d/%m/%Y": "%m/%d/%Y", "%d/%m/%Y %H:%M": "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S": "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y": "%m.%d.%Y", "%d-%m-%Y": "%m-%d-%Y", "%d/%m/%y": "%m/%d/%y",
}
_MONTH_FIRST = {v: k for k, v in _DAY_MONTH_PAIRS.items()}

# A weekday written after a Japanese date: 2024/04/01(月), 2024年4月1日（月）.
_WEEKDAY_SUFFIX = re.compile(r"\s*[(（][月火水木金土日][曜]?[日]?[)）]\s*$")
# Japanese era years: 令和6年4月1日, R6.4.1 is not handled (rare in exports).
_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ERA_DATE = re.compile(r"^(令和|平成|昭和)(元|\d{1,2})年")
# An ISO timestamp with a UTC offset or Z.
_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|UTC|[+-]\d{2}:?\d{2})$")
# Excel counts days from 1899-12-30 (its 1900 leap-year bug included); 10,000-99,999 is
# 1927-05-18 to 2173-10-14, far from both YYYYMMDD numbers and small counts.
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_SERIALS = (10_000, 100_000)
# Zones tried first when UTC timestamps look like someone's midnight; then every zone.
_PREFERRED_ZONES = (
    "Asia/Tokyo", "Asia/Seoul", "Asia/Shanghai", "Asia/Taipei", "Asia/Singapore", "Asia/Bangkok", "Asia/Kolkata",
    "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Helsinki", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney", "Pacific/Auckland",
)


@dataclass(frozen=True)
class ParsedDates:
    """A column of dates as read: ``values`` is datetime64[ns] (naive, local), NaT where a
    value is not a date; ``format`` the format that was used; ``fact`` what was decided
    and why, for the import notes, as a message (``core.i18n.Msg``; None when there was
    nothing to decide), and ``note`` the same in the current language."""

    values: pd.Series
    format: str | None
    fact: Msg | None = None

    @property
    def note(self) -> str | None:
        return None if self.fact is None else render(self.fact)


@dataclass(frozen=True)
class ParsedNumbers:
    """A column of numbers as read: ``values`` is float64, NaN where a value is empty or
    not a finite number; ``note`` says which written forms were read (thousands
    separators, full-width digits, currency signs, decimal commas): ``fact`` as a message,
    ``note`` in the current language."""

    values: pd.Series
    fact: Msg | None = None

    @property
    def note(self) -> str | None:
        return None if self.fact is None else render(self.fact)


# ---------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------
def parse_dates(
    values: pd.Series, freq: Freq | None = None, series: pd.Series | None = None, column: str = "date"
) -> ParsedDates:
    """Read a column of dates as its system wrote them.

    ``values`` may be datetimes (naive or with a zone), numbers (YYYYMMDD, YYYYMM or
    Excel serial days) or text in any of ``_DATE_FORMATS``, optionally with a UTC offset, a
    Japanese era or a weekday suffix. ``freq`` and ``series`` (one label per row), when
    given, decide between day-first and month-first readings: the one that puts each
    series on a regular grid at ``freq`` wins. Timestamps with offsets become each row's
    local calendar day; UTC timestamps that are all midnights of one zone are converted
    to that zone. Never raises on bad values: they become NaT.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return _zoned(values, column) if getattr(values.dt, "tz", None) is not None else ParsedDates(values, None)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return _numeric_dates(values.astype("float64"), column)
    codes, uniques = pd.factorize(values.astype("string").str.strip(), use_na_sentinel=True)
    text = _clean_date_text(pd.Series(uniques, dtype="string"))
    parsed = _parse_unique_text(text, column)
    if parsed.format in _DAY_MONTH_PAIRS or parsed.format in _MONTH_FIRST:
        parsed = _day_month_order(text, parsed, codes, freq, series, column)
    out = np.full(len(codes), np.datetime64("NaT"), dtype="datetime64[ns]")
    known = codes >= 0
    out[known] = parsed.values.to_numpy(dtype="datetime64[ns]")[codes[known]]
    return ParsedDates(pd.Series(out, index=values.index), parsed.format, parsed.fact)


def _numeric_dates(numbers: pd.Series, column: str) -> ParsedDates:
    present = numbers.dropna()
    whole = present.eq(present.round()).all() if len(present) else False
    if whole and present.between(10_000_101, 99_991_231).mean() > 0.9:
        text = numbers.map(lambda v: "" if pd.isna(v) else f"{int(v):08d}")
        return ParsedDates(pd.to_datetime(text, format="%Y%m%d", errors="coerce"), "%Y%m%d")
    if whole and present.between(190_001, 210_012).mean() > 0.9 and (present % 100).between(1, 12).all():
        text = numbers.map(lambda v: "" if pd.isna(v) else f"{int(v):06d}")
        return ParsedDates(pd.to_datetime(text, format="%Y%m", errors="coerce"), "%Y%m")
    if len(present) and present.between(*_EXCEL_SERIALS).mean() > 0.9:
        # A fraction is the time of day (45383.375 is 09:00): kept, like any timestamp.
        days = numbers.where(numbers.between(*_EXCEL_SERIALS))
        values = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.round("s")
        first = int(present.min())
        return ParsedDates(values.astype("datetime64[ns]"), "excel-serial", M_(
            "'{column}' holds Excel serial day numbers (for example {first}); they were read as days since "
            "{epoch}, so {first} is {day}.", column=column, first=first, epoch=words.day(_EXCEL_EPOCH),
            day=words.day(_EXCEL_EPOCH + pd.Timedelta(days=first))))
    return ParsedDates(pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns]"), None)


def _clean_date_text(text: pd.Series) -> pd.Series:
    """Drop a trailing weekday (2024/04/01(月)) and turn Japanese era years into Western ones."""
    text = text.str.replace(_WEEKDAY_SUFFIX, "", regex=True)
    if text.str.startswith(tuple(_ERAS), na=False).any():
        def western(match: re.Match) -> str:
            year = 1 if match.group(2) == "元" else int(match.group(2))
            return f"{_ERAS[match.group(1)] + year}年"
        text = text.str.replace(_ERA_DATE, western, regex=True)
    return text


def _parse_unique_text(text: pd.Series, column: str) -> ParsedDates:
    offsets = text.str.extract(_OFFSET)
    if offsets[0].notna().mean() > 0.5:
        return _offset_dates(text, offsets, column)
    numeric = pd.to_numeric(text, errors="coerce").astype("float64")
    if numeric.notna().mean() > 0.9:
        numbers = _numeric_dates(numeric, column)
        if numbers.format is not None:
            return numbers
    best = ParsedDates(pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]"), None)
    best_share = -1.0
    for fmt in _DATE_FORMATS:
        if fmt == "%Y%m%d" and not numeric.between(10_000_101, 99_991_231).mean() > 0.9:
            continue
        try:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        except (ValueError, TypeError):  # ISO8601 with a zone on some values
            continue
        if getattr(parsed.dt, "tz", None) is not None:
            continue
        share = parsed.notna().mean()
        if share > best_share:
            best, best_share = ParsedDates(parsed, fmt), share
        if share == 1.0:
            break
    return best


def _offset_dates(text: pd.Series, parts: pd.DataFrame, column: str) -> ParsedDates:
    """ISO timestamps with an offset: each row's local calendar day, as its system wrote it.

    The wall-clock date before the offset is the local day. When every offset is zero
    (UTC) and the times are not midnight, the timestamps are probably local midnights
    written in UTC: the zone in which all of them are midnight is found and named.
    """
    local = pd.to_datetime(parts[0] + "T" + parts[1], format="ISO8601", errors="coerce")
    offset = parts[2].dropna()
    utc = offset.str.upper().isin(["Z", "UTC", "+00:00", "+0000", "-00:00"]).all()
    distinct = sorted(set(offset.str.replace(":", "", regex=False).map(lambda o: "Z" if o in ("Z", "UTC") else
                                                                        f"{o[:3]}:{o[3:]}")))
    if utc:
        days = _utc_local_days(local, column, text.dropna().iloc[0] if text.notna().any() else "")
        if days is not None:
            return days
    if utc:
        return ParsedDates(local, "ISO8601+offset")
    return ParsedDates(local, "ISO8601+offset", M_(
        "'{column}' holds timestamps with UTC offsets ({offsets}): each row keeps the calendar day "
        "written before its offset (its local day), so a change of offset such as summer time moves no day.",
        column=column, offsets=", ".join(distinct)))


def _midnight_zone(utc_times: pd.Series) -> str | None:
    """The zone in which every one of these UTC times is a midnight, preferring common ones."""
    sample = pd.DatetimeIndex(utc_times.drop_duplicates().head(2000)).tz_localize("UTC")
    zones = list(_PREFERRED_ZONES) + sorted(zoneinfo.available_timezones() - set(_PREFERRED_ZONES))
    for zone in zones:
        try:
            wall = sample.tz_convert(zone)
        except (KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            continue
        if (wall.hour == 0).all() and (wall.minute == 0).all() and (wall.second == 0).all():
            return zone
    return None


def _zoned(values: pd.Series, column: str) -> ParsedDates:
    """A typed column with a zone (Parquet, Excel): its wall-clock time in that zone, or
    for UTC, the local days it stands for (see ``_utc_local_days``)."""
    zone = str(values.dt.tz)
    local = values.dt.tz_localize(None)
    if zone.upper() in ("UTC", "Z", "ETC/UTC"):
        present = local.dropna()
        days = _utc_local_days(local, column, f"{present.iloc[0]:%Y-%m-%d %H:%M} UTC" if len(present) else "")
        if days is not None:
            return days
    return ParsedDates(local, None)


def _utc_local_days(utc: pd.Series, column: str, example: str) -> ParsedDates | None:
    """UTC times that stand for local days, or None when they are plain midnights (or unexplained).

    All at 12:00 is the convention for a date without a zone (noon is the same day almost
    everywhere): the UTC date is kept. Otherwise, if every time is midnight in one zone
    (15:00 in Tokyo; 23:00 in winter and 22:00 in summer in Berlin), each is converted to
    its local day there and the zone is named.
    """
    present = utc.dropna()
    if present.empty or (present == present.dt.normalize()).all():
        return None
    if (present - present.dt.normalize() == pd.Timedelta(hours=12)).all():
        return ParsedDates(utc.dt.normalize(), "ISO8601+offset", M_(
            "'{column}' holds UTC timestamps all at 12:00, the convention for a date without a time zone: "
            "each keeps the date written.", column=column))
    zone = _midnight_zone(present)
    if zone is None:
        return None
    converted = utc.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
    moved = (converted.dt.normalize() != utc.dt.normalize()).any()
    first = words.day(converted.dropna().iloc[0])
    if moved:
        fact = M_("'{column}' holds UTC timestamps that all fall on midnight in {zone} (for example {example} is "
                  "{day} there): each was converted to its local day in {zone}, not cut to its UTC date (which "
                  "would move every day one day early).", column=column, zone=zone, example=example, day=first)
    else:
        fact = M_("'{column}' holds UTC timestamps that all fall on midnight in {zone} (for example {example} is "
                  "{day} there): each was converted to its local day in {zone}.", column=column, zone=zone,
                  example=example, day=first)
    return ParsedDates(converted, "ISO8601+offset", fact)


def _day_month_order(
    text: pd.Series, parsed: ParsedDates, codes: np.ndarray, freq: Freq | None, series: pd.Series | None, column: str
) -> ParsedDates:
    """Choose between day-first and month-first by the whole column."""
    day_fmt = parsed.format if parsed.format in _DAY_MONTH_PAIRS else _MONTH_FIRST[parsed.format]
    month_fmt = _DAY_MONTH_PAIRS[day_fmt]
    day = pd.to_datetime(text, format=day_fmt, errors="coerce")
    month = pd.to_datetime(text, format=month_fmt, errors="coerce")
    day_share, month_share = day.notna().mean(), month.notna().mean()
    if day_share != month_share:
        chosen, fmt, other = (day, "day-first", "month-first") if day_share > month_share else \
            (month, "month-first", "day-first")
        reason = M_("only that reading makes every value a date; read {other}, some would be no date at all",
                    other=_ORDER_WORDS[other])
    else:
        day_score, day_grid = _regularity(day, codes, freq, series)
        month_score, month_grid = _regularity(month, codes, freq, series)
        if month_score != day_score:
            (chosen, fmt, score, grid), (other, other_score, other_grid) = (
                ((month, "month-first", month_score, month_grid), ("day-first", day_score, day_grid))
                if month_score > day_score else
                ((day, "day-first", day_score, day_grid), ("month-first", month_score, month_grid)))
            reason = M_("read so, each series has {score:.0%} of the {grid} periods from its first date to its "
                        "last; read {other}, at best {other_score:.0%} of its {other_grid} ones", score=score,
                        grid=words.freq_word(grid), other=_ORDER_WORDS[other], other_score=other_score,
                        other_grid=words.freq_word(other_grid))
        else:
            chosen, fmt, reason = day, "day-first", M_(
                "both readings fit equally well, and day-first is the more common; if your system writes "
                "month-first (US), correct the file")
    fmt_used = day_fmt if fmt == "day-first" else month_fmt
    example = _example(text, chosen)
    if fmt == "month-first":
        how = M_("month-first (month/day/year, as US systems write it)")
    else:
        how = M_("day-first (day/month/year)")
    if example is None:
        fact = M_("'{column}' was read {how}: {reason}.", column=column, how=how, reason=reason)
    else:
        fact = M_("'{column}' was read {how} — {example}: {reason}.", column=column, how=how, example=example,
                  reason=reason)
    return ParsedDates(chosen, fmt_used, fact)


# The two orders of day and month, as a note names them.
_ORDER_WORDS = {"day-first": M_("day-first"), "month-first": M_("month-first")}


def _example(text: pd.Series, parsed: pd.Series) -> Msg | None:
    """'2/1/2022 is 1 February 2022': a value whose day and month could be swapped, read."""
    ambiguous = parsed.notna() & (parsed.dt.day <= 12) & (parsed.dt.day != parsed.dt.month)
    pick = ambiguous if ambiguous.any() else parsed.notna()
    if not pick.any():
        return None
    i = pick.idxmax()
    when = parsed.loc[i]
    return M_("{value} is {day} {month} {year}", value=text.loc[i], day=when.day, month=words.month(when.month),
              year=when.year)


def _regularity(
    unique_dates: pd.Series, codes: np.ndarray, freq: Freq | None, series: pd.Series | None
) -> tuple[float, Freq | None]:
    """Share of the periods spanned by each series that its dates step through one at a
    time (at ``freq``, or the best of daily, weekly and monthly): 1.0 for a complete grid,
    near 0 for twelve days a year read as a daily series."""
    known = codes >= 0
    dates = unique_dates.to_numpy(dtype="datetime64[ns]")[codes[known]]
    labels = series.to_numpy()[known] if series is not None else np.zeros(known.sum())
    frame = pd.DataFrame({"s": labels, "d": dates}).dropna().drop_duplicates().sort_values(["s", "d"])
    gaps = frame.groupby("s")["d"].diff().dropna().dt.days
    months = (frame["d"].dt.year * 12 + frame["d"].dt.month).groupby(frame["s"]).diff().dropna()
    if gaps.empty:
        return 0.0, freq
    shares = {Freq.DAILY: (gaps == 1).sum() / gaps.sum(), Freq.WEEKLY: (gaps == 7).sum() / (gaps.sum() / 7),
              Freq.MONTHLY: (months == 1).sum() / max(months.sum(), 1)}
    best = freq if freq is not None else max(shares, key=shares.get)
    return float(shares[best]), best


# ---------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------
_CURRENCY = re.compile(r"^\s*([+-]?)\s*[¥$€£]\s*|\s*(円|JPY|EUR|USD)\s*$")
_THOUSANDS_POINT = re.compile(r"^[+-]?\d{1,3}(?:([, '\u00a0\u202f])\d{3})(?:\1\d{3})*(?:\.\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(?:([. '\u00a0\u202f])\d{3})(?:\1\d{3})*(?:,\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")


def parse_numbers(values: pd.Series, decimal_comma: bool = False, column: str = "value") -> ParsedNumbers:
    """Read a column of numbers as Excel and retail systems write them.

    Plain numbers first; then, for the values that are not, full-width digits (NFKC),
    a leading ``¥``/``￥``/``$``/``€`` or trailing ``円``, thousands separators
    (``1,157``, ``1 157``, ``1'157``) and, when ``decimal_comma`` (a ``;``-separated
    file), decimal commas (``12,5``, ``1.234,5``). ``inf``, ``NaN`` and overflows such as
    ``1e400`` are not numbers: they become NaN like any text. Returns float64 values.
    """
    if pd.api.types.is_bool_dtype(values):
        return ParsedNumbers(values.astype("float64"))
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        return ParsedNumbers(numbers.where(np.isfinite(numbers)))
    text = values.astype("string").str.strip()
    if decimal_comma:
        # In a ';' file a column is continental (',' decimal, '.' between thousands) when it
        # has a decimal comma, or when every value with a point is grouped by thousands
        # (1.157 as Excel's #.##0 writes 1157; 0.500 or 1.25 keep their point).
        dotted = text[text.str.contains(".", regex=False, na=False)]
        decimal_comma = bool(text.str.contains(r"\d,\d", regex=True, na=False).any()) or (
            len(dotted) > 0 and bool(dotted.str.fullmatch(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+").all()))
    simple = ~text.str.contains(r"[.,]", regex=True, na=False) if decimal_comma else text.notna()
    numbers = pd.to_numeric(text.where(simple), errors="coerce").astype("float64")
    numbers = numbers.where(np.isfinite(numbers))
    todo = numbers.isna() & text.notna() & text.ne("")
    if not todo.any():
        return ParsedNumbers(numbers)
    raw = text[todo]
    normal = raw.map(lambda s: unicodedata.normalize("NFKC", s)).str.strip()
    kinds: list[str] = []
    if (normal != raw).any():
        kinds.append("full-width characters")
    stripped = normal.str.replace(_CURRENCY, r"\1", regex=True)
    if (stripped != normal).any():
        kinds.append("currency signs")
    if decimal_comma:
        grouped = stripped.str.match(_THOUSANDS_COMMA) & stripped.str.contains(r"[. '\u00a0\u202f]", regex=True)
        plain = stripped.where(~grouped, stripped.str.replace(r"[. '\u00a0\u202f]", "", regex=True))
        comma = plain.str.contains(",", regex=False)
        plain = plain.str.replace(",", ".", regex=False)
        if comma.any():
            kinds.append("decimal commas")
    else:
        grouped = stripped.str.match(_THOUSANDS_POINT)
        plain = stripped.where(~grouped, stripped.str.replace(r"[, '\u00a0\u202f]", "", regex=True))
    if grouped.any():
        kinds.append("thousands separators")
    read = pd.to_numeric(plain, errors="coerce").astype("float64")
    read = read.where(np.isfinite(read))
    numbers.loc[todo] = read
    n_read = int(read.notna().sum())
    if not n_read:
        return ParsedNumbers(numbers)
    example = raw[read.notna()].iloc[0]
    note = M_("'{column}': {n:,} value(s) written with {written} were read as numbers (for example \"{example}\" "
              "as {number}).", column=column, n=n_read, written=_written(kinds), example=example,
              number=f"{read.dropna().iloc[0]:.15g}")
    return ParsedNumbers(numbers, note)


# The written forms of numbers a note names.
_NUMBER_FORMS = {"full-width characters": M_("full-width characters"), "currency signs": M_("currency signs"),
                 "decimal commas": M_("decimal commas"), "thousands separators": M_("thousands separators")}


def _written(kinds: list[str]) -> Msg:
    """"full-width characters, currency signs and thousands separators", in the reader's language."""
    forms = [_NUMBER_FORMS[k] for k in kinds]
    if not forms:
        return M_("another notation")
    if len(forms) == 1:
        return forms[0]
    if len(forms) == 2:
        return M_("{first} and {last}", first=forms[0], last=forms[1])
    if len(forms) == 3:
        return M_("{first}, {second} and {last}", first=forms[0], second=forms[1], last=forms[2])
    return M_("{first}, {second}, {third} and {last}", first=forms[0], second=forms[1], third=forms[2],
              last=forms[3])
