"""One way to write a figure for people, used by pages, charts, tables, CSV and the PDF.

Rules (issue 11):

* Yen carry their sign before the ¥: ``¥1,234``, ``−¥1,234``, and in a change
  ``+¥1,234``; short forms keep three significant figures (``+¥19.8M``, ``−¥12.0K``,
  never ``¥-0.0M``). The minus is the typographic U+2212, as Plotly draws it.
* A change that rounds to nothing is written "no change", never ``¥0 ↑`` or ``−0.0%``.
* Percentages of a whole end in ``%``; differences between two percentages are
  percentage points (``+2.3 pp``).
* p-values: ``< 0.001`` below a thousandth, else three decimals.
* Missing values are an en dash in sentences and metrics, blank in table cells.
* People read model and metric names (``Seasonal naive``, ``WAPE``), never aliases;
  aliases stay in the CLI and the warehouse.

Japanese (issue 15), when ``core.i18n`` says it is the current language: yen in 円 with
万, 億 and 兆 where they are large (``¥19,212,806`` → ``1,921万円``, ``¥1.23B`` →
``12.3億円``), percentage points as ``ポイント``, dates as ``2026年11月30日``, "no change"
as ``変化なし``. Words are looked up in the catalogs (``core.i18n``).

Nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping

from core.i18n import N_, gettext, language

MINUS = "\u2212"
MISSING = "–"
NO_CHANGE = N_("no change")


def _ja() -> bool:
    return language() == "ja"


def no_change() -> str:
    """"no change" / 変化なし."""
    return gettext(NO_CHANGE)


def missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT and NA compare unequal to themselves
    except (TypeError, ValueError):
        return False


def _sign(value: float, signed: bool) -> str:
    if value < 0:
        return MINUS
    return "+" if signed and value > 0 else ""


def count(value: float | None) -> str:
    """A count with thousands separators: ``12,345``."""
    if missing(value):
        return MISSING
    rounded = round(float(value))
    return f"{_sign(rounded, False)}{abs(rounded):,.0f}"


def number(value: float | None, digits: int = 1, signed: bool = False) -> str:
    """A number with thousands separators and ``digits`` decimals: ``1,234.5``."""
    if missing(value):
        return MISSING
    rounded = round(float(value), digits)
    if rounded == 0:
        rounded = 0.0  # no "−0.0"
    return f"{_sign(rounded, signed)}{abs(rounded):,.{digits}f}"


def trimmed(value: float | None, digits: int = 2) -> str:
    """A number without trailing zeros: ``4.5``, ``6``, ``0.25``."""
    text = number(value, digits)
    return text.rstrip("0").rstrip(".") if "." in text else text


def yen(value: float | None, signed: bool = False) -> str:
    """Whole yen: ``¥1,234``, ``−¥1,234``; ``signed`` adds ``+`` to gains."""
    if missing(value):
        return MISSING
    rounded = round(float(value))
    if _ja():
        return _sign(rounded, signed) + _man(abs(rounded))
    return f"{_sign(rounded, signed)}¥{abs(rounded):,.0f}"


# Japanese units of a large amount: 兆 (10^12), 億 (10^8), 万 (10^4).
_JA_UNITS = ((1e12, "兆"), (1e8, "億"), (1e4, "万"))


def _man(size: float) -> str:
    """A non-negative amount of yen as a Japanese reader writes it: ``1,234円`` below
    10,000; above, three significant figures in the largest unit, whole units kept
    (``1.23万円``, ``12.3万円``, ``1,921万円``, ``12.3億円``, ``1.20兆円``)."""
    for scale, unit in _JA_UNITS:
        if size >= scale * 0.9995:
            scaled = size / scale
            digits = 0 if scaled >= 99.95 else 1 if scaled >= 9.995 else 2
            text = f"{_half_up(scaled, digits):,.{digits}f}"
            if text in ("10,000", "10000") and unit != "兆":  # 9,999.6万 rounds up to 1億
                return _man(size * 1.0001)
            return f"{text}{unit}円"
    return f"{round(size):,.0f}円"


_SHORT = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def yen_short(value: float | None, signed: bool = False) -> str:
    """Yen in three significant figures for charts and tight places: ``¥19.8M``,
    ``−¥12.0K``, ``+¥950``."""
    if missing(value):
        return MISSING
    value = float(value)
    size = abs(value)
    if _ja():
        return _sign(value if round(size) else 0, signed) + _man(size)
    for scale, suffix in _SHORT:
        if size >= scale * 0.9995:
            scaled = size / scale
            digits = 0 if scaled >= 99.95 else 1 if scaled >= 9.995 else 2
            return f"{_sign(value, signed)}¥{scaled:.{digits}f}{suffix}"
    rounded = round(value)
    return f"{_sign(rounded, signed)}¥{abs(rounded):,.0f}"


def yen_change(value: float | None, short: bool = False) -> str:
    """A difference in yen: ``+¥1,234``, ``−¥1,234``, or "no change" when it rounds to ¥0."""
    if missing(value):
        return MISSING
    if round(float(value)) == 0:
        return no_change()
    return yen_short(value, signed=True) if short else yen(value, signed=True)


def pct(value: float | None, digits: int = 1, signed: bool = False) -> str:
    """A share as a percentage: ``12.3%``; ``signed`` writes ``+1.2%`` / ``−1.2%``."""
    if missing(value):
        return MISSING
    rounded = round(float(value) * 100, digits)
    if rounded == 0:
        rounded = 0.0
    return f"{_sign(rounded, signed)}{abs(rounded):.{digits}f}%"


def _half_up(size: float, decimals: int) -> float:
    """``size`` rounded half away from zero, as people round (34.5 → 35), on its shortest
    decimal form (so 0.345 × 100 reads as 34.5, not 34.4999…)."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(size)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def _significant(size: float, figures: int) -> int:
    """Decimals that keep ``figures`` significant figures of ``size`` (> 0)."""
    return max(0, figures - 1 - math.floor(math.log10(size)))


def pct_fine(value: float | None, digits: int = 1) -> str:
    """A share as a percentage that stays readable when small: ``digits`` decimals from
    1 % up (``8.4%``; halves round up), two significant figures below (``0.012%``,
    ``0.50%``), ``0%`` for nothing. Negative shares carry the minus (U+2212)."""
    if missing(value):
        return MISSING
    percent = float(value) * 100
    size = abs(percent)
    if size == 0:
        return "0%"
    decimals = digits if size >= 1 else _significant(size, 2)
    rounded = _half_up(size, decimals)
    if size < 1 and rounded >= 1:  # 0.996 % rounds up to 1 %
        decimals, rounded = digits, _half_up(size, digits)
    return f"{_sign(percent, False)}{rounded:,.{decimals}f}%"


def times(value: float | None) -> str:
    """A ratio as a multiple: ``9,779×`` from 10, ``1.4×`` from 1, two significant
    figures below 1 (``0.42×``, ``0.0042×``), ``0×`` for nothing; 倍 in Japanese (``1.4倍``)."""
    if missing(value):
        return MISSING
    ratio = float(value)
    size = abs(ratio)
    unit = "倍" if _ja() else "×"
    if size == 0:
        return f"0{unit}"
    decimals = 0 if size >= 9.95 else 1 if size >= 0.995 else _significant(size, 2)
    return f"{_sign(ratio, False)}{_half_up(size, decimals):,.{decimals}f}{unit}"


SHARE_AS_MULTIPLE = 10.0  # from this many times the whole, a share is written as a multiple


def share_of(value: float | None, whole: float | None) -> str:
    """What ``value`` is of ``whole``, one way everywhere: a percentage without decimals
    below ten times the whole (``35%``; two significant figures below 1 %, ``0.42%``),
    a multiple from ten times (``9,779×``). Missing (an en dash) when either is missing
    or the whole is zero."""
    if missing(value) or missing(whole) or float(whole) == 0:
        return MISSING
    ratio = float(value) / float(whole)
    if abs(ratio) >= SHARE_AS_MULTIPLE:
        return times(ratio)
    return pct_fine(ratio, 0)


def pct_change(value: float | None, digits: int = 1) -> str:
    """A relative change (``0.12`` = 12 % more): ``+12.0%``, or "no change"."""
    if missing(value):
        return MISSING
    if round(float(value) * 100, digits) == 0:
        return no_change()
    return pct(value, digits, signed=True)


def pp_between(after: float | None, before: float | None, digits: int = 1) -> str:
    """The difference of two shares as ``pct`` shows them (each rounded first), in percentage
    points: beside "15.5% → 18.5%" it reads ``+3.0 pp``, never the ``+3.1 pp`` of the
    unrounded shares, so the figures on screen add up."""
    if missing(after) or missing(before):
        return MISSING
    return pp((round(float(after) * 100, digits) - round(float(before) * 100, digits)) / 100, digits)


def pp(value: float | None, digits: int = 1) -> str:
    """A difference of two shares in percentage points (``0.023`` → ``+2.3 pp``), or
    "no change"."""
    if missing(value):
        return MISSING
    rounded = round(float(value) * 100, digits)
    if rounded == 0:
        return no_change()
    if _ja():
        return f"{_sign(rounded, True)}{abs(rounded):.{digits}f}ポイント"
    return f"{_sign(rounded, True)}{abs(rounded):.{digits}f} pp"


def p_value(value: float | None) -> str:
    """A p-value as statisticians write it: ``< 0.001`` or ``0.023``."""
    if missing(value):
        return MISSING
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def p_phrase(value: float | None) -> str:
    """``p < 0.001`` / ``p = 0.023``."""
    text = p_value(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def months(value: float | None) -> str:
    """``18 months``, ``4.5 months``, ``1 month``."""
    if missing(value):
        return MISSING
    text = trimmed(value, 1)
    if _ja():
        return f"{text}か月"
    return f"{text} month" + ("" if text == "1" else "s")


def date(value: object) -> str:
    """A day as people read it: ``2026-11-30`` in English (as the tables show it),
    ``2026年11月30日`` in Japanese. Accepts a date, datetime, pandas Timestamp or ISO
    text; missing is an en dash."""
    if missing(value):
        return MISSING
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    day = value.date() if isinstance(value, dt.datetime) or hasattr(value, "to_pydatetime") else value
    if _ja():
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def names(values: Iterable[object]) -> str:
    """Names (columns, sheets, fields) as a reader lists them: ``'Industry', 'State'`` in English,
    ``「Industry」、「State」`` in Japanese — never Python's ``['Industry', 'State']``."""
    values = [str(v) for v in values]
    if _ja():
        return "、".join(f"「{v}」" for v in values)
    return ", ".join(f"'{v}'" for v in values)


def date_range(first: object, last: object) -> str:
    """``2026-11-01 – 2026-11-30`` / ``2026年11月1日〜2026年11月30日``."""
    return f"{date(first)}〜{date(last)}" if _ja() else f"{date(first)} – {date(last)}"


def cell(value: object) -> object:
    """A table cell: missing values blank, anything else unchanged."""
    return None if missing(value) else value


def blank_missing(records: Iterable[Mapping]) -> list[dict]:
    """Records with missing values as empty strings (for tables of text)."""
    return [{k: "" if missing(v) else v for k, v in r.items()} for r in records]


# ---------------------------------------------------------------------------------
# Names people read
# ---------------------------------------------------------------------------------
METRIC_NAMES = {
    "wape": "WAPE", "smape": "sMAPE", "mase": "MASE", "rmsse": "RMSSE", "mae": "MAE", "rmse": "RMSE",
    "bias": N_("Bias"), "mape": "MAPE", "seconds": N_("Seconds"), "coverage": N_("Coverage"),
    "stockout_rate": N_("Stockout rate"), "fill_rate": N_("Fill rate"), "waste_rate": N_("Waste rate"),
    # the spread of a forecast (core.backtest.metrics.QUANTILE_METRICS and CALIBRATION_METRICS)
    "pinball": N_("Pinball loss"), "coverage_80": N_("80 % interval coverage"),
    "coverage_95": N_("95 % interval coverage"), "width_80": N_("80 % interval width"),
    "below_0.025": N_("Below the 2.5 % quantile"), "below_0.1": N_("Below the 10 % quantile"),
    "below_0.5": N_("Below the median"), "below_0.9": N_("Below the 90 % quantile"),
    "below_0.975": N_("Below the 97.5 % quantile"),
}


def metric_name(metric: str) -> str:
    """``wape`` → ``WAPE``; an unknown name is returned with its first letter raised."""
    known = METRIC_NAMES.get(str(metric).lower())
    if known is not None:
        return gettext(known)
    return str(metric)[:1].upper() + str(metric)[1:].replace("_", " ")


def model_name(alias: str) -> str:
    """A model's name for people (``snaive`` → ``Seasonal naive``); an alias no model
    has (a model built elsewhere) is returned as it is."""
    from core.forecast.registry import EXTERNAL_PREFIX, MODELS  # lazily: the registry imports the model libraries

    model = MODELS.get(str(alias))
    if model is None and str(alias).startswith(EXTERNAL_PREFIX):
        return str(alias)[len(EXTERNAL_PREFIX):]  # forecasts made elsewhere: the name their maker gave
    return gettext(model.name) if model is not None else str(alias)


PRACTICE = N_("Today's practice")


def policy_name(alias: str | None) -> str:
    """A money policy as people read it at the start of a label or cell: "Today's
    practice" for the recorded orders, else the model's name."""
    return gettext(PRACTICE) if alias == "practice" else model_name(alias or MISSING)


def model_list(aliases: Iterable[str]) -> str:
    """Models by name, as a reader lists them: ``Naive, Moving average`` / ``ナイーブ、移動平均``."""
    return ("、" if _ja() else ", ").join(model_name(a) for a in aliases)


def model_names(aliases: Iterable[str]) -> dict[str, str]:
    return {a: model_name(a) for a in aliases}
