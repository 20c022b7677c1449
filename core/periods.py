"""Words that follow a dataset's frequency: days, weeks or months.

A page or a decision that speaks of "54 days of backtest", "a same-weekday rule" or
"days out of stock" on monthly turnover misleads; these helpers give the word for the
period of the data instead (``Freq`` from ``core.columns``). Nothing here imports
Streamlit.
"""

from __future__ import annotations

from core.columns import Freq
from core.i18n import N_, gettext, ngettext, pgettext

def period_noun(freq: Freq, plural: bool = False) -> str:
    """``day``/``week``/``month`` (``days``… with ``plural``); 日/週/月 in Japanese."""
    freq = Freq(freq)
    if freq == Freq.DAILY:
        return pgettext("period", "days") if plural else pgettext("period", "day")
    if freq == Freq.WEEKLY:
        return pgettext("period", "weeks") if plural else pgettext("period", "week")
    return pgettext("period", "months") if plural else pgettext("period", "month")


def span(freq: Freq, n: int | float) -> str:
    """A count of periods in words: ``1 day``, ``54 days``, ``18 months``, ``1,040 weeks``
    (``54日``, ``18か月``, ``1,040週`` in Japanese)."""
    count = round(float(n))
    template = {Freq.DAILY: ngettext("{n:,} day", "{n:,} days", count),
                Freq.WEEKLY: ngettext("{n:,} week", "{n:,} weeks", count),
                Freq.MONTHLY: ngettext("{n:,} month", "{n:,} months", count)}[Freq(freq)]
    return template.format(n=count)


_SEASONAL_RULE = {Freq.DAILY: N_("the same weekday last week"), Freq.WEEKLY: N_("the same week last year"),
                  Freq.MONTHLY: N_("the same month last year")}


def seasonal_rule(freq: Freq) -> str:
    """What seasonal naive repeats at this frequency: ``the same weekday last week``
    (daily), ``the same week last year`` (weekly), ``the same month last year`` (monthly)."""
    return gettext(_SEASONAL_RULE[Freq(freq)])


def seasonal_naive_label(freq: Freq) -> str:
    """The seasonal-naive baseline as a person reads it: ``seasonal naive (the same
    month last year)``."""
    return gettext("seasonal naive ({rule})").format(rule=seasonal_rule(freq))


_OUT_OF_STOCK = {Freq.DAILY: N_("Days out of stock"), Freq.WEEKLY: N_("Weeks out of stock"),
                 Freq.MONTHLY: N_("Months out of stock")}


def out_of_stock(freq: Freq) -> str:
    """The headline of the stockout rate: ``Days out of stock``, ``Weeks out of stock``…"""
    return gettext(_OUT_OF_STOCK[Freq(freq)])


_SERIES_PERIODS = {Freq.DAILY: N_("series-days"), Freq.WEEKLY: N_("series-weeks"),
                   Freq.MONTHLY: N_("series-months")}


def series_periods(freq: Freq) -> str:
    """The unit a rate of stockouts counts: ``series-days``, ``series-weeks``, ``series-months``."""
    return gettext(_SERIES_PERIODS[Freq(freq)])


_PER_PERIOD = {Freq.DAILY: N_("a day"), Freq.WEEKLY: N_("a week"), Freq.MONTHLY: N_("a month")}


def per_period(freq: Freq) -> str:
    """``a day``, ``a week``, ``a month``."""
    return gettext(_PER_PERIOD[Freq(freq)])
