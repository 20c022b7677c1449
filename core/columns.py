"""Canonical names of the one data shape every part of Mitoshi speaks.

A dataset is stored long: one row per (series, date). The user's columns are mapped
onto these roles at import time; key, attribute and exogenous columns keep their
(sanitised) names, the three core columns get the canonical names below.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import pandas as pd

from core.i18n import N_, gettext

SERIES_ID = "unique_id"  # the series key columns joined by SERIES_SEP (see series_ids)
DATE = "ds"
TARGET = "y"
SERIES_SEP = "/"
SERIES_ESCAPE = "\\"


def series_ids(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """The series id of each row: its key values joined by ``SERIES_SEP``.

    With several keys, a ``/`` or ``\\`` inside a value is escaped with ``\\`` first, so
    the id is unique per tuple of key values whatever characters they hold: (``a/b``, ``c``)
    is ``a\\/b/c`` and (``a``, ``b/c``) is ``a/b\\/c``. A single key is its value as is.
    The warehouse builds the same ids in SQL (``core.warehouse.store.series_id_sql``).
    """
    if len(keys) == 1:
        return frame[keys[0]].astype(str)
    parts = [frame[k].astype(str).str.replace(SERIES_ESCAPE, SERIES_ESCAPE * 2, regex=False)
             .str.replace(SERIES_SEP, SERIES_ESCAPE + SERIES_SEP, regex=False) for k in keys]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + SERIES_SEP + part
    return joined


class Role(StrEnum):
    """What a column of a dataset means."""

    KEY = "key"  # part of the series key (store, item, ...)
    DATE = "date"
    TARGET = "target"
    ATTRIBUTE = "attribute"  # constant within a series: category, region -> segments
    EXOG_KNOWN = "exog_known"  # known in advance: planned price, promotion, holiday
    EXOG_UNKNOWN = "exog_unknown"  # only observed after the fact: weather, traffic
    STOCKOUT = "stockout"  # 1 where sales were censored by an empty shelf
    ORDERS = "orders"  # today's ordering practice: units ordered for that date


# The frequency's word for people, by Freq value (``Freq.text``); a stored message can name one
# as ``Msg(FREQ_WORDS[freq])`` so that it reads in the language of whoever opens it.
FREQ_WORDS = {"D": N_("daily"), "W": N_("weekly"), "M": N_("monthly")}


class Freq(StrEnum):
    DAILY = "D"
    WEEKLY = "W"
    MONTHLY = "M"

    @property
    def label(self) -> str:
        """``daily``, ``weekly``, ``monthly``: the English word, as the command line and stored
        settings write it. People read ``text``."""
        return {"D": "daily", "W": "weekly", "M": "monthly"}[self.value]

    @property
    def text(self) -> str:
        """The frequency as people read it, in the current language: ``daily`` / 日次."""
        return gettext(FREQ_WORDS[self.value])

    @property
    def season_length(self) -> int:
        """The main seasonal period: a week of days, a year of weeks or months."""
        return {"D": 7, "W": 52, "M": 12}[self.value]

    @property
    def pandas_freq(self) -> str:
        """The pandas offset alias of one period (weeks keep their weekday)."""
        return {"D": "D", "W": "7D", "M": "MS"}[self.value]

    @property
    def min_history(self) -> int:
        """Periods a series needs before it can be backtested at all."""
        return {"D": 56, "W": 26, "M": 24}[self.value]
