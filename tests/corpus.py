"""A corpus of awkward files, as retail systems and Excel really export them.

Each function below builds one small file in memory and says what importing it must
give: the data as it truly is (every series, date and value, from which the series
count, row count, first and last date and total follow), the frequency and what the
import notes must mention — or the clean refusal that is right for it. The files are
rendered from that truth, so the expected values never come from parsing the file.

``tests/test_corpus.py`` runs every file through the importer API and a subset through
the Import page. Nothing here reads ``../shared``: the shared cases are regenerated.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.columns import Freq
from core.data.importer import ColumnMapping, Repairs

Key = tuple[str, ...]
Row = tuple[Key, pd.Timestamp, float]  # one stored row: series key values, date, target

# What a note must mention, as regular expressions (case-insensitive).
MONTH_FIRST = r"month[- ]?first|month/day|month before (the )?day|m/d/y|mm/dd"
DAY_FIRST = r"day[- ]?first|day/month|day before (the )?month|d/m/y|dd/mm"
EXCEL_SERIAL = r"excel|serial"
THOUSANDS = r"thousand"
FULL_WIDTH = r"full[- ]?width|全角|zenkaku"
YEN = r"¥|￥|yen|currency"
DECIMAL_COMMA = r"decimal comma|comma as (the )?decimal|decimal separator"
TOKYO = r"asia/tokyo|tokyo|\+09:?00|utc\s?\+\s?9|jst"
CENTRAL_EUROPE = r"europe/|berlin|paris|central europe|\bcet\b|\bcest\b|\+0[12]:?00|utc\s?\+\s?[12]"
WEEKDAYS_MOVED = r"sunday|friday"
BOTH_WEEKDAYS = r"(?s)(?=.*sunday)(?=.*friday)"
ANY = r"\S"


# ---------------------------------------------------------------------------------
# What a file must give
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Imported:
    """The file imports, and the warehouse then holds exactly ``truth``."""

    truth: tuple[Row, ...]
    freq: Freq
    notes: tuple[str, ...] = ()  # each pattern must match one of the notes
    exact_dates: bool = True  # False: dates may move onto a weekly grid (values and order kept, one weekday)
    raw_columns: tuple[str, ...] | None = None  # the columns read_table must give, in order
    column_totals: Mapping[str, float] = field(default_factory=dict)  # sums of other stored columns
    never_suggested: tuple[str, ...] = ()  # columns no suggested role may use

    @property
    def series(self) -> int:
        return len({k for k, _, _ in self.truth})

    @property
    def rows(self) -> int:
        return len(self.truth)

    @property
    def total(self) -> float:
        return float(sum(v for _, _, v in self.truth))

    @property
    def start(self) -> pd.Timestamp:
        return min(d for _, d, _ in self.truth)

    @property
    def end(self) -> pd.Timestamp:
        return max(d for _, d, _ in self.truth)

    def describe(self) -> str:
        dates = f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}" if self.exact_dates else "dates moved onto one weekday"
        return f"{self.series} {self.freq.label} series, {self.rows} rows, {dates}, total {self.total:,.6g}"


@dataclass(frozen=True)
class Refused:
    """The file is refused cleanly: an ImportProblemError, or problems in the report."""

    message: str  # pattern one message must match
    codes: tuple[str, ...] = ()  # the problem must have one of these codes (validation refusals)
    count: int | None = None  # ... and this count
    stage: str | None = None  # "read": read_table must refuse it (before anything is parsed)

    def describe(self) -> str:
        what = f"problem {'/'.join(self.codes)}" if self.codes else "refused"
        return f"{what}{f' ({self.count})' if self.count is not None else ''}" + \
            (" at read" if self.stage == "read" else "") + f": /{self.message}/"


@dataclass(frozen=True)
class Case:
    file_name: str
    data: bytes
    kind: str  # dates, numbers, containers, keys, fine, layout
    situation: str
    mapping: ColumnMapping | None  # the right mapping; None: use the suggested one
    expected: Imported | Refused
    alternative: Refused | None = None  # a clean refusal that is also right
    repairs: Repairs = Repairs()  # what a user chose on the page
    read: Mapping[str, object] = field(default_factory=dict)  # read_table keywords (sheet, max_mb)
    suggest: bool = True  # the suggested mapping must be the right one
    page: bool = False  # also run through the Import page
    name: str = ""  # the function that builds it


CASES: list[Case] = []


def case(kind: str, page: bool = False) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
    """Register a file function; its docstring is the situation it recreates."""

    def register(build: Callable[[], Case]) -> Callable[[], Case]:
        built = build()
        CASES.append(Case(**{**built.__dict__, "kind": kind, "situation": " ".join((build.__doc__ or "").split()),
                             "page": page, "name": build.__name__}))
        return build

    return register


def made(file_name: str, data: bytes, mapping: ColumnMapping | None, expected: Imported | Refused,
         **options) -> Case:
    return Case(file_name=file_name, data=data, kind="", situation="", mapping=mapping, expected=expected, **options)


# ---------------------------------------------------------------------------------
# Truth and rendering
# ---------------------------------------------------------------------------------
def daily(keys: list[Key], start: str = "2024-04-01", days: int = 60, scale: float = 1.0) -> list[Row]:
    """Daily sales with a Saturday peak (and a smaller Sunday one), different per series."""
    rows = []
    for k, key in enumerate(keys):
        for n, day in enumerate(pd.date_range(start, periods=days, freq="D")):
            peak = 15 if day.day_of_week == 5 else 6 if day.day_of_week == 6 else 0
            rows.append((key, day, float(scale * (20 + peak + (n * 5 + k * 3) % 9))))
    return rows


def weekly(keys_and_starts: list[tuple[Key, str]], weeks: int = 30) -> list[Row]:
    return [(key, day, float(50 + (n * 7 + k * 5) % 13 + 10 * (n % 4 == 0)))
            for k, (key, start) in enumerate(keys_and_starts)
            for n, day in enumerate(pd.date_range(start, periods=weeks, freq="7D"))]


def monthly(keys: list[Key], start: str = "2022-01-01", months: int = 36) -> list[Row]:
    return [(key, day, float(200 + (n * 37 + k * 11) % 90 - 40 * (n % 12 in (8, 9))))
            for k, key in enumerate(keys)
            for n, day in enumerate(pd.date_range(start, periods=months, freq="MS"))]


def records(rows: list[Row], date: Callable[[pd.Timestamp], str],
            value: Callable[[float], str] | None = None) -> list[list]:
    value = value or integer
    return [[*key, date(day), value(v)] for key, day, v in rows]


def integer(v: float) -> str:
    return f"{int(v)}" if float(v).is_integer() else f"{v}"


def iso(day: pd.Timestamp) -> str:
    return f"{day:%Y-%m-%d}"


def slashed(day: pd.Timestamp) -> str:
    return f"{day:%Y/%m/%d}"


def csv_text(header: list[str], body: list[list], sep: str = ",", eol: str = "\n") -> str:
    """As Excel writes it: a field is quoted only when it holds the separator, a quote or a newline."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator=eol)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def mapping(keys: tuple[str, ...], date: str, target: str, **roles) -> ColumnMapping:
    return ColumnMapping(keys=keys, date=date, target=target, **roles)


STORE_ITEM = [("S1", "I1"), ("S1", "I2"), ("S2", "I1"), ("S2", "I2")]
TWO_STORES = [("S1",), ("S2",)]
PLAIN = mapping(("store",), "date", "units")


def plain_daily(file_name: str, date: Callable[[pd.Timestamp], str], *, start: str = "2024-04-01",
                notes: tuple[str, ...] = (), **options) -> Case:
    """store,date,units for two stores and sixty days, dates written by ``date``."""
    rows = daily(TWO_STORES, start)
    text = csv_text(["store", "date", "units"], records(rows, date))
    return made(file_name, text.encode(), PLAIN, Imported(tuple(rows), Freq.DAILY, notes=notes), **options)


def excel_book(sheets: dict[str, pd.DataFrame]) -> bytes:
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return out.getvalue()


def parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def clean_csv() -> bytes:
    rows = daily(STORE_ITEM)
    return csv_text(["store", "item", "date", "units"], records(rows, iso)).encode()


def excel_serial(day: pd.Timestamp) -> int:
    return (day - pd.Timestamp("1899-12-30")).days


def local_midnight(day: pd.Timestamp, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))


def in_utc(day: pd.Timestamp, zone: str) -> str:
    return local_midnight(day, zone).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# =================================================================================
# Files that already import well and must keep doing so
# =================================================================================
@case("fine", page=True)
def clean_daily_store_item() -> Case:
    """A clean daily store x item CSV with ISO dates."""
    rows = daily(STORE_ITEM)
    return made("clean_daily_store_item.csv", clean_csv(), mapping(("store", "item"), "date", "units"),
                Imported(tuple(rows), Freq.DAILY, raw_columns=("store", "item", "date", "units")))


@case("fine")
def month_end_monthly() -> Case:
    """Monthly quantities dated on the last day of each month (2024-02-29 included)."""
    rows = monthly([("X1",), ("X2",)])
    body = records(rows, lambda d: iso(d + pd.offsets.MonthEnd(0)))
    return made("month_end_monthly.csv", csv_text(["item", "month", "qty"], body).encode(),
                mapping(("item",), "month", "qty"), Imported(tuple(rows), Freq.MONTHLY))


@case("fine")
def month_start_monthly() -> Case:
    """Monthly quantities dated on the 1st of each month, ISO."""
    rows = monthly([("X1",), ("X2",)])
    return made("month_start_monthly.csv", csv_text(["item", "month", "qty"], records(rows, iso)).encode(),
                mapping(("item",), "month", "qty"), Imported(tuple(rows), Freq.MONTHLY))


@case("fine")
def japanese_headers_sjis() -> Case:
    """Shift_JIS CSV as Japanese Excel saves it: 店舗, 商品, 日付 (2024/04/01), 販売数量."""
    rows = daily([("新宿店", "おにぎり"), ("新宿店", "牛乳"), ("梅田店", "おにぎり")])
    text = csv_text(["店舗", "商品", "日付", "販売数量"], records(rows, slashed), eol="\r\n")
    return made("売上_日次.csv", text.encode("cp932"), mapping(("店舗", "商品"), "日付", "販売数量"),
                Imported(tuple(rows), Freq.DAILY, raw_columns=("店舗", "商品", "日付", "販売数量")))


@case("fine")
def weekly_sundays_both_stores() -> Case:
    """Weekly sales, both stores' weeks labelled by their Sunday."""
    rows = weekly([(("A",), "2023-01-01"), (("B",), "2023-01-01")])
    return made("weekly_sundays.csv", csv_text(["store", "week", "units"], records(rows, iso)).encode(),
                mapping(("store",), "week", "units"), Imported(tuple(rows), Freq.WEEKLY))


@case("fine")
def yyyymmdd_numbers() -> Case:
    """Dates as 8-digit numbers (20240401), as many POS systems write them."""
    return plain_daily("yyyymmdd_dates.csv", lambda d: f"{d:%Y%m%d}")


@case("fine")
def japanese_year_month() -> Case:
    """Monthly file with 年月 written 2022年1月."""
    rows = monthly([("弁当",), ("牛乳",)])
    body = records(rows, lambda d: f"{d.year}年{d.month}月")
    return made("月次_年月.csv", csv_text(["商品", "年月", "数量"], body).encode(),
                mapping(("商品",), "年月", "数量"), Imported(tuple(rows), Freq.MONTHLY))


@case("fine")
def never_sold_item() -> Case:
    """One item that never sold (0 every day) beside a regular one."""
    rows = [(k, d, 0.0 if k == ("dead",) else v) for k, d, v in daily([("dead",), ("live",)])]
    text = csv_text(["item", "date", "units"], records(rows, iso))
    return made("never_sold.csv", text.encode(), mapping(("item",), "date", "units"),
                Imported(tuple(rows), Freq.DAILY))


# =================================================================================
# Dates as exported
# =================================================================================
@case("dates", page=True)
def us_month_first_monthly() -> Case:
    """US monthly export: M/1/YYYY (2/1/2022 is February), 36 months per item."""
    rows = monthly([("X1",), ("X2",)])
    body = records(rows, lambda d: f"{d.month}/1/{d.year}")
    return made("us_monthly.csv", csv_text(["item", "month", "qty"], body).encode(),
                mapping(("item",), "month", "qty"), Imported(tuple(rows), Freq.MONTHLY, notes=(MONTH_FIRST,)))


@case("dates")
def uk_day_first_monthly() -> Case:
    """UK monthly export: 01/MM/YYYY (01/02/2022 is February)."""
    rows = monthly([("X1",), ("X2",)])
    body = records(rows, lambda d: f"{d:%d/%m/%Y}")
    return made("uk_monthly.csv", csv_text(["item", "month", "qty"], body).encode(),
                mapping(("item",), "month", "qty"), Imported(tuple(rows), Freq.MONTHLY, notes=(DAY_FIRST,)))


@case("dates")
def day_first_daily() -> Case:
    """European daily export: DD/MM/YYYY from 01/01/2022 (13/01/2022 on the 13th row)."""
    return plain_daily("day_first_daily.csv", lambda d: f"{d:%d/%m/%Y}", start="2022-01-01", notes=(DAY_FIRST,))


@case("dates")
def us_month_first_daily() -> Case:
    """US daily export without leading zeros: 1/1/2022 … 1/13/2022 … 3/1/2022."""
    return plain_daily("us_daily.csv", lambda d: f"{d.month}/{d.day}/{d.year}", start="2022-01-01",
                       notes=(MONTH_FIRST,))


@case("dates")
def german_dotted_dates() -> Case:
    """German daily export: 01.04.2024."""
    return plain_daily("dotted_dates.csv", lambda d: f"{d:%d.%m.%Y}")


@case("dates")
def excel_serial_numbers() -> Case:
    """Dates as Excel serial day numbers (45383 = 2024-04-01), from a column formatted General."""
    return plain_daily("excel_serial.csv", lambda d: str(excel_serial(d)), notes=(EXCEL_SERIAL,))


@case("dates")
def iso_offsets_tokyo() -> Case:
    """Timestamps with a +09:00 offset throughout: 2024-04-01T00:00:00+09:00."""
    return plain_daily("jst_offsets.csv", lambda d: local_midnight(d, "Asia/Tokyo").isoformat())


@case("dates")
def iso_offsets_berlin_summer_time() -> Case:
    """Berlin local midnights with their offset, +01:00 then +02:00 after the change on 2024-03-31."""
    return plain_daily("berlin_offsets.csv", lambda d: local_midnight(d, "Europe/Berlin").isoformat(),
                       start="2024-03-01")


@case("dates", page=True)
def utc_z_tokyo_midnights() -> Case:
    """Tokyo midnights written in UTC: 2024-03-31T15:00:00Z is 2024-04-01 in the store (Saturday peaks)."""
    return plain_daily("utc_tokyo.csv", lambda d: in_utc(d, "Asia/Tokyo"), notes=(TOKYO,))


@case("dates")
def utc_z_berlin_midnights() -> Case:
    """Berlin midnights written in UTC: 23:00Z the day before in winter, 22:00Z in summer."""
    return plain_daily("utc_berlin.csv", lambda d: in_utc(d, "Europe/Berlin"), start="2024-03-01",
                       notes=(CENTRAL_EUROPE,))


@case("dates", page=True)
def weekly_mixed_weekdays() -> Case:
    """Two stores' weekly sales: store A labels a week by its Sunday, store B by its Friday."""
    rows = weekly([(("A",), "2023-01-01"), (("B",), "2023-01-06")])
    return made("weekly_mixed_anchor.csv", csv_text(["store", "week", "units"], records(rows, iso)).encode(),
                mapping(("store",), "week", "units"),
                Imported(tuple(rows), Freq.WEEKLY, notes=(WEEKDAYS_MOVED,), exact_dates=False),
                alternative=Refused(BOTH_WEEKDAYS))


@case("dates")
def midnight_time_strings() -> Case:
    """Dates with a midnight time, as databases dump them: 2024-04-01 00:00:00."""
    return plain_daily("datetime_strings.csv", lambda d: f"{d:%Y-%m-%d %H:%M:%S}")


@case("dates")
def excel_japanese_datetime_text() -> Case:
    """A date cell saved to CSV by Japanese Excel: 2024/4/1 0:00."""
    return plain_daily("excel_jp_datetime.csv", lambda d: f"{d.year}/{d.month}/{d.day} 0:00")



@case("dates")
def weekday_suffix() -> Case:
    """Japanese POS export with the weekday after the date: 2024/04/01(月)."""
    return plain_daily("weekday_suffix.csv", lambda d: f"{d:%Y/%m/%d}({'月火水木金土日'[d.day_of_week]})")


@case("dates")
def reiwa_era_dates() -> Case:
    """Japanese era dates: 令和6年4月1日 (Reiwa 6 = 2024)."""
    return plain_daily("reiwa_dates.csv", lambda d: f"令和{d.year - 2018}年{d.month}月{d.day}日")


@case("dates")
def yyyymm_monthly_numbers() -> Case:
    """Monthly file with 年月 as a 6-digit number: 202201."""
    rows = monthly([("弁当",), ("牛乳",)])
    body = records(rows, lambda d: f"{d:%Y%m}")
    return made("月次_yyyymm.csv", csv_text(["商品", "年月", "数量"], body).encode(),
                mapping(("商品",), "年月", "数量"), Imported(tuple(rows), Freq.MONTHLY))


@case("dates")
def excel_mmm_yy_monthly() -> Case:
    """Monthly file with Excel's mmm-yy format: Jan-22."""
    rows = monthly([("X1",), ("X2",)])
    body = records(rows, lambda d: f"{d:%b-%y}")
    return made("mmm_yy_monthly.csv", csv_text(["item", "month", "qty"], body).encode(),
                mapping(("item",), "month", "qty"), Imported(tuple(rows), Freq.MONTHLY))


@case("dates")
def two_systems_two_date_formats() -> Case:
    """Two exports pasted together: April dated 2024-04-01, May dated 2024/05/01."""
    return plain_daily("mixed_date_formats.csv", lambda d: iso(d) if d.month == 4 else slashed(d))


@case("dates")
def newest_first() -> Case:
    """A report sorted newest first."""
    rows = daily(TWO_STORES)
    text = csv_text(["store", "date", "units"], records(sorted(rows, key=lambda r: r[1], reverse=True), iso))
    return made("newest_first.csv", text.encode(), PLAIN, Imported(tuple(rows), Freq.DAILY))


# =================================================================================
# Numbers as exported
# =================================================================================
@case("numbers", page=True)
def thousands_quoted_sjis() -> Case:
    """Shift_JIS CSV with Excel's #,##0 format: values of 1,000 and more quoted with a comma ("1,157")."""
    rows = daily([("新宿店",), ("渋谷店",)], start="2024-01-01", scale=40)
    text = csv_text(["店舗", "日付", "販売数量"], records(rows, slashed, lambda v: f"{int(v):,}"), eol="\r\n")
    return made("sales_sjis_thousands.csv", text.encode("cp932"), mapping(("店舗",), "日付", "販売数量"),
                Imported(tuple(rows), Freq.DAILY, notes=(THOUSANDS,)))


@case("numbers")
def thousands_space() -> Case:
    """Thousands separated by a space: 1 157."""
    rows = daily(TWO_STORES, scale=40)
    text = csv_text(["store", "date", "units"], records(rows, iso, lambda v: f"{int(v):,}".replace(",", " ")))
    return made("thousands_space.csv", text.encode(), PLAIN, Imported(tuple(rows), Freq.DAILY, notes=(THOUSANDS,)))


@case("numbers")
def thousands_no_break_space() -> Case:
    """French Excel: thousands separated by a no-break space (U+00A0) or a narrow one (U+202F)."""
    rows = daily(TWO_STORES, scale=40)
    spaces = ["\u00a0", "\u202f"]
    body = [[*k, iso(d), f"{int(v):,}".replace(",", spaces[i % 2])] for i, (k, d, v) in enumerate(rows)]
    return made("thousands_nbsp.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Imported(tuple(rows), Freq.DAILY, notes=(THOUSANDS,)))


@case("numbers")
def full_width_digits() -> Case:
    """Quantities typed with full-width digits: １２３."""
    rows = daily(TWO_STORES)
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    text = csv_text(["store", "date", "units"], records(rows, iso, lambda v: integer(v).translate(wide)))
    return made("full_width_digits.csv", text.encode(), PLAIN, Imported(tuple(rows), Freq.DAILY, notes=(FULL_WIDTH,)))


@case("numbers")
def yen_amounts() -> Case:
    """Sales amounts with a currency sign, half- and full-width: ¥1,200 and ￥980."""
    rows = daily(TWO_STORES, scale=50)
    body = [[*k, iso(d), f"{'¥' if i % 2 else '￥'}{int(v):,}"] for i, (k, d, v) in enumerate(rows)]
    return made("yen_amounts.csv", csv_text(["store", "date", "sales"], body).encode(),
                mapping(("store",), "date", "sales"), Imported(tuple(rows), Freq.DAILY, notes=(YEN,)))


@case("numbers", page=True)
def semicolon_decimal_comma() -> Case:
    """German Excel: ';' separated, decimal commas (12,5 and 1.234,5), a price column 2,49."""
    rows = [(k, d, v * 35.5) for k, d, v in daily(TWO_STORES)]
    prices = [1.99 if d.day_of_week == 4 else 2.49 for _, d, _ in rows]

    def german(v: float, digits: int) -> str:
        return f"{v:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")

    body = [[*k, f"{d:%d.%m.%Y}", german(v, 1), german(p, 2)] for (k, d, v), p in zip(rows, prices, strict=True)]
    text = csv_text(["store", "date", "sales_kg", "price"], body, sep=";")
    return made("semicolon_decimal_comma.csv", text.encode(),
                mapping(("store",), "date", "sales_kg", exog_known=("price",)),
                Imported(tuple(rows), Freq.DAILY, notes=(DECIMAL_COMMA,), column_totals={"price": sum(prices)}))


@case("numbers")
def price_with_thousands() -> Case:
    """A price column written with #,##0: "1,280" beside 980."""
    rows = daily(TWO_STORES)
    prices = [1280.0 if i % 3 else 980.0 for i in range(len(rows))]
    body = [[*k, iso(d), integer(v), f"{int(p):,}"] for (k, d, v), p in zip(rows, prices, strict=True)]
    return made("price_thousands.csv", csv_text(["store", "date", "units", "price"], body).encode(),
                mapping(("store",), "date", "units", exog_known=("price",)),
                Imported(tuple(rows), Freq.DAILY, notes=(THOUSANDS,), column_totals={"price": sum(prices)}))


@case("numbers", page=True)
def infinities_and_nan() -> Case:
    """Five targets that are not numbers although Python parses them: inf, Infinity, -inf, NaN, 1e400."""
    rows = daily(TWO_STORES)
    body = records(rows, iso)
    for row, word in zip((3, 17, 40, 70, 99), ("inf", "Infinity", "-inf", "NaN", "1e400"), strict=True):
        body[row][-1] = word
    return made("infinities.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Refused(ANY, codes=("bad_targets",), count=5))


@case("numbers")
def excel_error_values() -> Case:
    """Excel formula errors saved as text: #N/A, #VALUE!, #DIV/0!, #REF!."""
    body = records(daily(TWO_STORES), iso)
    for row, word in zip((5, 20, 66, 90), ("#N/A", "#VALUE!", "#DIV/0!", "#REF!"), strict=True):
        body[row][-1] = word
    return made("excel_errors.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Refused(ANY, codes=("bad_targets",), count=4))


@case("numbers")
def negative_returns_set_to_zero() -> Case:
    """Three days where returns exceeded sales (-2, -5, -1); the user chose 'set negative targets to 0'."""
    rows = daily(TWO_STORES)
    negatives = {7: -2, 33: -5, 101: -1}
    body = records(rows, iso)
    for row, v in negatives.items():
        body[row][-1] = str(v)
    truth = tuple((k, d, 0.0 if i in negatives else v) for i, (k, d, v) in enumerate(rows))
    return made("negative_returns.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Imported(truth, Freq.DAILY, notes=(r"negative",)), repairs=Repairs(negatives="zero"))


@case("numbers")
def triangle_negatives() -> Case:
    """Japanese accounting writes negatives with a triangle: △3 is -3 (returns)."""
    body = records(daily(TWO_STORES), iso)
    body[10][-1], body[80][-1] = "△3", "▲2"
    return made("triangle_negatives.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Refused(ANY, codes=("negative_targets", "bad_targets"), count=2))


@case("numbers")
def zero_repair_keeps_thousands() -> Case:
    """Quoted thousands ("1,157") and two truly empty days; the user chose 'count them as 0'."""
    rows = daily(TWO_STORES, scale=40)
    body = records(rows, iso, lambda v: f"{int(v):,}")
    empty = (12, 77)
    for row in empty:
        body[row][-1] = ""
    truth = tuple((k, d, 0.0 if i in empty else v) for i, (k, d, v) in enumerate(rows))
    return made("thousands_and_empty.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Imported(truth, Freq.DAILY, notes=(THOUSANDS, r"\b2\b.*\b0\b")), repairs=Repairs(bad_targets="zero"))


# =================================================================================
# Containers and encodings
# =================================================================================
@case("containers")
def utf16_unicode_text() -> Case:
    """Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated, CRLF, Japanese headers."""
    rows = daily([("新宿店",), ("梅田店",)])
    text = csv_text(["店舗", "日付", "販売数量"], records(rows, slashed), sep="\t", eol="\r\n")
    return made("unicode_text.txt", b"\xff\xfe" + text.encode("utf-16-le"), mapping(("店舗",), "日付", "販売数量"),
                Imported(tuple(rows), Freq.DAILY, raw_columns=("店舗", "日付", "販売数量")))


@case("containers")
def utf8_bom() -> Case:
    """UTF-8 with a BOM before the header, as Excel's "CSV UTF-8" writes it."""
    rows = daily(TWO_STORES)
    text = csv_text(["store", "date", "units"], records(rows, iso), eol="\r\n")
    return made("utf8_bom.csv", b"\xef\xbb\xbf" + text.encode(), PLAIN,
                Imported(tuple(rows), Freq.DAILY, raw_columns=("store", "date", "units")))


@case("containers")
def shift_jis_vendor_characters() -> Case:
    """Shift_JIS (CP932) store names with vendor characters: 髙島屋店, ①号店, ㈱本店."""
    rows = daily([("髙島屋店",), ("①号店",), ("㈱本店",)])
    text = csv_text(["店舗", "日付", "販売数量"], records(rows, slashed), eol="\r\n")
    return made("cp932_vendor_chars.csv", text.encode("cp932"), mapping(("店舗",), "日付", "販売数量"),
                Imported(tuple(rows), Freq.DAILY))


@case("containers")
def windows_1252_accents() -> Case:
    """A European export in Windows-1252: stores Bäckerei and Crème (bytes that also decode as Shift_JIS)."""
    rows = daily([("Bäckerei",), ("Crème",)])
    text = csv_text(["store", "date", "units"], records(rows, iso), eol="\r\n")
    return made("cp1252_accents.csv", text.encode("cp1252"), PLAIN, Imported(tuple(rows), Freq.DAILY),
                alternative=Refused(r"encoding|utf-8|shift_jis|cp1252|windows-1252|latin", stage="read"))


@case("containers")
def tab_separated_sjis_txt() -> Case:
    """A tab-separated .txt in Shift_JIS, as older POS back offices write."""
    rows = daily([("新宿店",), ("梅田店",)])
    text = csv_text(["店舗", "日付", "販売数量"], records(rows, slashed), sep="\t", eol="\r\n")
    return made("pos_export.txt", text.encode("cp932"), mapping(("店舗",), "日付", "販売数量"),
                Imported(tuple(rows), Freq.DAILY))



@case("containers")
def excel_sep_hint_line() -> Case:
    """European Excel's separator hint: the first line is 'sep=;'."""
    rows = daily(TWO_STORES)
    text = "sep=;\r\n" + csv_text(["store", "date", "units"], records(rows, iso), sep=";", eol="\r\n")
    return made("sep_hint.csv", text.encode(), PLAIN, Imported(tuple(rows), Freq.DAILY),
                alternative=Refused(ANY))


@case("containers", page=True)
def truncated_gzip() -> Case:
    """A .csv.gz cut off halfway through the download."""
    data = gzip.compress(clean_csv())
    return made("truncated.csv.gz", data[: len(data) // 2], None, Refused(ANY, stage="read"))


@case("containers")
def corrupt_gzip() -> Case:
    """A .csv.gz whose compressed bytes were damaged in the middle."""
    data = bytearray(gzip.compress(clean_csv()))
    middle = len(data) // 2
    data[middle:middle + 40] = bytes(40)
    return made("corrupt.csv.gz", bytes(data), None, Refused(ANY, stage="read"))


@case("containers")
def gzip_bomb() -> Case:
    """A small gzip that inflates far past the size limit (here 1 MB, read with max_mb=1)."""
    body = "store,date,units\n" + "S1,2024-04-01,1\n" * 400_000
    return made("bomb.csv.gz", gzip.compress(body.encode(), 9), None,
                Refused(r"limit|too (large|big)|\bMB\b", stage="read"), read={"max_mb": 1})


@case("containers")
def truncated_xlsx() -> Case:
    """An .xlsx cut off halfway."""
    data = excel_book({"売上": pd.DataFrame({"store": ["S1"], "date": ["2024-04-01"], "units": [1]})})
    return made("truncated.xlsx", data[: len(data) // 2], None, Refused(ANY, stage="read"))


@case("containers")
def truncated_parquet() -> Case:
    """A Parquet file cut off halfway."""
    rows = daily(TWO_STORES)
    table = pa.table({"store": [k[0] for k, _, _ in rows], "units": [v for _, _, v in rows]})
    data = parquet(table)
    return made("truncated.parquet", data[: len(data) // 2], None, Refused(ANY, stage="read"))


@case("containers")
def huge_header_field() -> Case:
    """A header cell of 200 KB (a pasted blob) after store, date, units."""
    rows = daily(TWO_STORES)
    text = csv_text(["store", "date", "units", "x" * 200_000], [[*r, ""] for r in records(rows, iso)])
    return made("huge_header.csv", text.encode(), PLAIN, Imported(tuple(rows), Freq.DAILY),
                alternative=Refused(r"column|header|long|field|name"), suggest=False)


@case("containers", page=True)
def parquet_unsupported_columns() -> Case:
    """Parquet with binary, list and struct columns beside store, date, units."""
    rows = daily(TWO_STORES)
    n = len(rows)
    table = pa.table({
        "store": pa.array([k[0] for k, _, _ in rows]),
        "date": pa.array([d.date() for _, d, _ in rows], pa.date32()),
        "units": pa.array([int(v) for _, _, v in rows], pa.int64()),
        "thumbnail": pa.array([b"\x89PNG\x00\x01"] * n, pa.binary()),
        "tags": pa.array([["bento", "chilled"]] * n, pa.list_(pa.string())),
        "dims": pa.array([{"w": 1.0, "h": 2.0}] * n, pa.struct([("w", pa.float64()), ("h", pa.float64())])),
    })
    return made("nested.parquet", parquet(table), PLAIN,
                Imported(tuple(rows), Freq.DAILY, notes=("thumbnail", "tags", "dims"),
                         never_suggested=("thumbnail", "tags", "dims")))


@case("containers")
def parquet_tokyo_timestamps() -> Case:
    """Parquet timestamps typed with the Asia/Tokyo zone, at local midnight."""
    rows = daily(TWO_STORES)
    dates = pd.DatetimeIndex([d for _, d, _ in rows]).tz_localize("Asia/Tokyo")
    table = pa.table({"store": [k[0] for k, _, _ in rows], "date": pa.array(dates),
                      "units": [int(v) for _, _, v in rows]})
    return made("tokyo_timestamps.parquet", parquet(table), PLAIN, Imported(tuple(rows), Freq.DAILY))


@case("containers")
def parquet_utc_tokyo_midnights() -> Case:
    """Parquet timestamps in UTC that are Tokyo midnights (15:00 UTC the day before)."""
    rows = daily(TWO_STORES)
    dates = pd.DatetimeIndex([d for _, d, _ in rows]).tz_localize("Asia/Tokyo").tz_convert("UTC")
    table = pa.table({"store": [k[0] for k, _, _ in rows], "date": pa.array(dates),
                      "units": [int(v) for _, _, v in rows]})
    return made("utc_timestamps.parquet", parquet(table), PLAIN, Imported(tuple(rows), Freq.DAILY, notes=(TOKYO,)))


@case("containers")
def parquet_integer_store_numbers() -> Case:
    """Parquet with store numbers as int64 (1, 2) and dates as timestamps."""
    rows = daily([("1",), ("2",)])
    table = pa.table({"store_no": pa.array([int(k[0]) for k, _, _ in rows], pa.int64()),
                      "date": pa.array(pd.DatetimeIndex([d for _, d, _ in rows])),
                      "units": pa.array([v for _, _, v in rows], pa.float64())})
    return made("int_stores.parquet", parquet(table), mapping(("store_no",), "date", "units"),
                Imported(tuple(rows), Freq.DAILY), suggest=False)


@case("containers", page=True)
def excel_two_sheets() -> Case:
    """A workbook with last year's sheet first (店舗, 日付, 数量) and this year's second (store_code, item, …)."""
    first = daily([("新宿店",), ("梅田店",)], start="2023-04-01")
    second = daily([("S01", "A"), ("S01", "B"), ("S02", "A")])
    book = excel_book({
        "2023年": pd.DataFrame({"店舗": [k[0] for k, _, _ in first], "日付": [d for _, d, _ in first],
                               "数量": [int(v) for _, _, v in first]}),
        "売上": pd.DataFrame({"store_code": [k[0] for k, _, _ in second], "item": [k[1] for k, _, _ in second],
                            "date": [d for _, d, _ in second], "units": [int(v) for _, _, v in second]}),
    })
    return made("two_sheets.xlsx", book, mapping(("store_code", "item"), "date", "units"),
                Imported(tuple(second), Freq.DAILY), read={"sheet": "売上"})


@case("containers")
def excel_serial_cells() -> Case:
    """An .xlsx whose date column is formatted General: serial numbers (45383) in number cells."""
    rows = daily([("新宿店",), ("梅田店",)])
    book = excel_book({"Sheet1": pd.DataFrame({"店舗": [k[0] for k, _, _ in rows],
                                               "日付": [excel_serial(d) for _, d, _ in rows],
                                               "販売数量": [int(v) for _, _, v in rows]})})
    return made("serial_cells.xlsx", book, mapping(("店舗",), "日付", "販売数量"),
                Imported(tuple(rows), Freq.DAILY, notes=(EXCEL_SERIAL,)))


# =================================================================================
# Keys
# =================================================================================
@case("keys")
def missing_value_words_as_store_names() -> Case:
    """Stores called NA, null, None and N/A (codes, not missing values)."""
    rows = daily([("NA",), ("null",), ("None",), ("N/A",)])
    return made("na_stores.csv", csv_text(["store", "date", "units"], records(rows, iso)).encode(), PLAIN,
                Imported(tuple(rows), Freq.DAILY))


@case("keys")
def na_store_after_the_offered_repair() -> Case:
    """Stores NA (North America) and EU with their items; the user ticked 'drop rows with an empty key'."""
    rows = daily([("NA", "I1"), ("NA", "I2"), ("EU", "I1")])
    text = csv_text(["store", "item", "date", "units"], records(rows, iso))
    return made("na_store.csv", text.encode(), mapping(("store", "item"), "date", "units"),
                Imported(tuple(rows), Freq.DAILY), repairs=Repairs(drop_missing_keys=True))


@case("keys", page=True)
def separator_in_key_values() -> Case:
    """Two key columns whose values hold '/': (a/b, c), (a, b/c) and (a, c) are three series."""
    rows = daily([("a/b", "c"), ("a", "b/c"), ("a", "c")])
    text = csv_text(["dept", "item", "date", "units"], records(rows, iso))
    return made("slash_keys.csv", text.encode(), mapping(("dept", "item"), "date", "units"),
                Imported(tuple(rows), Freq.DAILY))


@case("keys", page=True)
def user_columns_named_like_internal_ones() -> Case:
    """The user's key is called unique_id, the date ds, and a size class y (an attribute); sales is the target."""
    rows = daily([("0001",), ("0002",)])
    body = [[k[0], iso(d), "L" if k[0] == "0001" else "S", integer(v)] for k, d, v in rows]
    return made("internal_names.csv", csv_text(["unique_id", "ds", "y", "sales"], body).encode(),
                mapping(("unique_id",), "ds", "sales", attributes=("y",)),
                Imported(tuple(rows), Freq.DAILY), suggest=False)


@case("keys")
def nixtla_long_format() -> Case:
    """A file already in Nixtla's long format: unique_id, ds, y."""
    rows = daily([("store_1/bento",), ("store_2/bento",)])
    return made("nixtla.csv", csv_text(["unique_id", "ds", "y"], records(rows, iso)).encode(),
                mapping(("unique_id",), "ds", "y"), Imported(tuple(rows), Freq.DAILY))


@case("keys")
def item_codes_with_leading_zeros() -> Case:
    """Item codes with leading zeros (00123, 04567) and a 13-digit JAN, which are keys, not numbers."""
    rows = daily([("S1", "00123"), ("S2", "00123"), ("S2", "4901234567894")])  # items sold in several stores
    text = csv_text(["store", "item_code", "date", "units"], records(rows, iso))
    return made("item_codes.csv", text.encode(), mapping(("store", "item_code"), "date", "units"),
                Imported(tuple(rows), Freq.DAILY))


@case("keys")
def fixed_width_padded_keys() -> Case:
    """Store codes padded with spaces as fixed-width systems write them ('S1    ')."""
    rows = daily(TWO_STORES)
    body = [[f"{k[0]:<6}", iso(d), integer(v)] for k, d, v in rows]
    return made("padded_keys.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Imported(tuple(rows), Freq.DAILY))


@case("keys")
def every_row_negative_then_dropped() -> Case:
    """A returns-only export (every target negative); the user chose 'drop rows with a negative target'."""
    body = [[*k, iso(d), f"-{integer(v)}"] for k, d, v in daily(TWO_STORES)]
    return made("all_negative.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Refused(ANY), repairs=Repairs(negatives="drop"))


@case("keys")
def every_key_empty_then_dropped() -> Case:
    """The key column is empty in every row; the user chose 'drop rows with an empty series key'."""
    body = [["", iso(d), integer(v)] for _, d, v in daily(TWO_STORES)]
    return made("no_keys.csv", csv_text(["store", "date", "units"], body).encode(), PLAIN,
                Refused(ANY), repairs=Repairs(drop_missing_keys=True))


# =================================================================================
# Layout of the sheet as exported
# =================================================================================
@case("layout")
def crlf_line_endings() -> Case:
    """Windows line endings (CRLF)."""
    rows = daily(STORE_ITEM)
    text = csv_text(["store", "item", "date", "units"], records(rows, iso), eol="\r\n")
    return made("crlf.csv", text.encode(), mapping(("store", "item"), "date", "units"),
                Imported(tuple(rows), Freq.DAILY))


@case("layout")
def quoted_newline_in_item_name() -> Case:
    """An item name with a line break inside the cell (Alt+Enter in Excel): "おにぎり\\n鮭"."""
    rows = daily([("S1", "おにぎり\n鮭"), ("S1", "牛乳"), ("S2", "おにぎり\n鮭")])
    text = csv_text(["store", "item", "date", "units"], records(rows, iso), eol="\r\n")
    return made("quoted_newline.csv", text.encode(), mapping(("store", "item"), "date", "units"),
                Imported(tuple(rows), Freq.DAILY))


@case("layout")
def trailing_empty_rows_and_columns() -> Case:
    """Excel saved a wider range than the data: two empty columns on every line and three empty rows at the end."""
    rows = daily(TWO_STORES)
    text = csv_text(["store", "date", "units", "", ""], [[*r, "", ""] for r in records(rows, iso)])
    text += ",,,,\n" * 3
    return made("trailing_empty.csv", text.encode(), PLAIN,
                Imported(tuple(rows), Freq.DAILY, raw_columns=("store", "date", "units")))


@case("layout", page=True)
def totals_row_at_the_bottom() -> Case:
    """A 合計 (total) row at the bottom with no date; the user chose 'drop rows whose date cannot be read'."""
    rows = daily([("新宿店",), ("梅田店",)])
    body = records(rows, slashed) + [["合計", "", integer(sum(v for _, _, v in rows))]]
    return made("with_total.csv", csv_text(["店舗", "日付", "販売数量"], body).encode(),
                mapping(("店舗",), "日付", "販売数量"), Imported(tuple(rows), Freq.DAILY),
                repairs=Repairs(drop_bad_dates=True))


@case("layout")
def header_names_with_spaces() -> Case:
    """Header cells with trailing and leading spaces: 'store ', ' date', 'units  '."""
    rows = daily(TWO_STORES)
    text = csv_text(["store ", " date", "units  "], records(rows, iso))
    return made("spaced_headers.csv", text.encode(), PLAIN,
                Imported(tuple(rows), Freq.DAILY, raw_columns=("store", "date", "units")))


@case("layout")
def duplicate_header_names() -> Case:
    """Two columns both called units (sold and returned)."""
    body = [[*r, "0"] for r in records(daily(TWO_STORES), iso)]
    return made("duplicate_headers.csv", csv_text(["store", "date", "units", "units"], body).encode(), None,
                Refused(r"units"))


@case("layout")
def semicolon_inside_quoted_header() -> Case:
    """A comma-separated file whose header has a quoted name holding ';': "memo; note"."""
    rows = daily(TWO_STORES)
    body = [[k[0], "本店; 直営" if k == ("S1",) else "FC; 加盟", iso(d), integer(v)] for k, d, v in rows]
    return made("semicolon_header.csv", csv_text(["store", "memo; note", "date", "units"], body).encode(),
                mapping(("store",), "date", "units", attributes=("memo; note",)),
                Imported(tuple(rows), Freq.DAILY, raw_columns=("store", "memo; note", "date", "units")))



@case("layout")
def title_rows_before_header() -> Case:
    """A report title and period on the first lines, then a blank line, then the header."""
    rows = daily([("新宿店",), ("梅田店",)])
    text = "売上日報\n期間: 2024/04/01〜2024/05/30\n\n" + csv_text(["店舗", "日付", "販売数"], records(rows, slashed))
    return made("titled_report.csv", text.encode(), mapping(("店舗",), "日付", "販売数"),
                Imported(tuple(rows), Freq.DAILY), alternative=Refused(ANY))


@case("layout")
def wide_dates_as_columns() -> Case:
    """A pivot export: one row per store, one column per day."""
    days = pd.date_range("2024-04-01", periods=60)
    header = ["store", *[iso(d) for d in days]]
    body = [[s, *[str(10 + (i * 3) % 7) for i in range(60)]] for s in ("S1", "S2", "S3")]
    return made("wide_pivot.csv", csv_text(header, body).encode(), None, Refused(ANY))
