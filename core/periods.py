"""Words that follow a dataset's frequency: days, weeks or months.

A page or a decision that speaks of "54 days of backtest", "a same-weekday rule" or
"days out of stock" on monthly turnover misleads; these helpers give the word for the
period of the data instead (``Freq`` from ``core.columns``). Nothing here imports
Streamlit.
"""

from __future__ import annotations

from core.columns import Freq

_NOUN = {Freq.DAILY: "day", Freq.WEEKLY: "week", Freq.MONTHLY: "month"}


def period_noun(freq: Freq, plural: bool = False) -> str:
    """``day``/``week``/``month`` (``days``… with ``plural``)."""
    return _NOUN[Freq(freq)] + ("s" if plural else "")


def span(freq: Freq, n: int | float) -> str:
    """A count of periods in words: ``1 day``, ``54 days``, ``18 months``, ``1,040 weeks``."""
    count = round(float(n))
    return f"{count:,} {period_noun(freq, plural=count != 1)}"


def seasonal_rule(freq: Freq) -> str:
    """What seasonal naive repeats at this frequency: ``the same weekday last week``
    (daily), ``the same week last year`` (weekly), ``the same month last year`` (monthly)."""
    return {Freq.DAILY: "the same weekday last week", Freq.WEEKLY: "the same week last year",
            Freq.MONTHLY: "the same month last year"}[Freq(freq)]


def seasonal_naive_label(freq: Freq) -> str:
    """The seasonal-naive baseline as a person reads it: ``seasonal naive (the same
    month last year)``."""
    return f"seasonal naive ({seasonal_rule(freq)})"


def out_of_stock(freq: Freq) -> str:
    """The headline of the stockout rate: ``Days out of stock``, ``Weeks out of stock``…"""
    return f"{period_noun(freq, plural=True).capitalize()} out of stock"


def series_periods(freq: Freq) -> str:
    """The unit a rate of stockouts counts: ``series-days``, ``series-weeks``, ``series-months``."""
    return f"series-{period_noun(freq, plural=True)}"


def per_period(freq: Freq) -> str:
    """``a day``, ``a week``, ``a month``."""
    return f"a {period_noun(freq)}"
