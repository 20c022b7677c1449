"""Values inside the data step's messages, kept as facts so that a message reads in the
language of whoever reads it (``core.i18n``): a day, a frequency, a weekday, a month.

Nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from core.columns import FREQ_WORDS, Freq
from core.i18n import N_, Fmt, Msg

WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
                 N_("Sunday"))
MONTH_NAMES = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
               N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))


def day(value: object) -> Fmt:
    """A day as people read it, when shown: ``2026-11-30`` / ``2026年11月30日``."""
    if isinstance(value, str):
        return Fmt("date", value[:10])
    stamp = pd.Timestamp(value)
    return Fmt("date", stamp.date().isoformat() if not pd.isna(stamp) else None)


def freq_word(freq: Freq) -> Msg:
    """``daily`` / 日次, when shown."""
    return Msg(FREQ_WORDS[Freq(freq).value])


def weekday(index: int) -> Msg:
    """``Monday`` / 月曜日 (0 is Monday, as ``datetime.weekday``)."""
    return Msg(WEEKDAY_NAMES[index])


def month(index: int) -> Msg:
    """``February`` / 2月 (1 is January)."""
    return Msg(MONTH_NAMES[index - 1])


def iso(value: object) -> str:
    """A day as ISO text (for a message's plain parameters)."""
    return (value if isinstance(value, dt.date) else pd.Timestamp(value).date()).isoformat()
