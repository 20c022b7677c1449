"""Numbers for people: thousands separators, yen, percentages."""

from __future__ import annotations

import math


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: float | None) -> str:
    return "–" if _missing(value) else f"{value:,.0f}"


def number(value: float | None, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{value:,.{digits}f}"


def yen(value: float | None) -> str:
    if _missing(value):
        return "–"
    return f"-¥{-value:,.0f}" if value < 0 else f"¥{value:,.0f}"


def pct(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if _missing(value):
        return "–"
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"
