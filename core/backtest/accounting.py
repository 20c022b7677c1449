"""Every series accounted for: what a backtest left out, and what a model did not forecast itself.

Two long tables travel with a run and are stored with it:

- ``excluded`` (cutoff, unique_id, reason): each series in scope that a fold did not
  score, and why (it started after the cutoff, ended before it, had no value on the
  cutoff date, or had no actual on the fold's forecast dates);
- ``fallbacks`` (model, cutoff, unique_id, rule, reason): each series a model left to a
  simple rule in a fold, the rule, and why (never sold, too short for its season, a
  fit that failed).

``excluded_summary`` and ``fallback_summary`` are their JSON shapes (the command line
writes them); ``sentences`` says them in words for the pages, the decision and the PDF,
and ``scored_phrase`` gives their captions the count of series scored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from core import fmt
from core.backtest.metrics import CUTOFF, MODEL
from core.columns import DATE, SERIES_ID

REASON, RULE = "reason", "rule"
EXCLUDED_COLUMNS = (CUTOFF, SERIES_ID, REASON)
FALLBACK_COLUMNS = (MODEL, CUTOFF, SERIES_ID, RULE, REASON)

# Why a series in scope was not scored in a fold, checked in this order.
STARTED_LATE = "started after the cutoff"
ENDED_EARLY = "ended before the cutoff"
OFF_GRID = "no value on the cutoff date"  # its dates are off the common grid, or that period is missing
NO_ACTUAL = "no actual on the forecast dates"  # forecast, but it ended at the cutoff or its dates are off the grid
REASONS = (STARTED_LATE, ENDED_EARLY, OFF_GRID, NO_ACTUAL)

# What a user can do about a reason, said after it.
REASON_HINTS = {OFF_GRID: "its dates are off the fold's grid (another weekday?) or that period is missing",
                NO_ACTUAL: "it ended at the cutoff, or its dates are off the grid"}

# The simple rules a model falls back to, as people read them in a sentence ("fell back to
# the last value (naive)") and in a table's Rule column; the CLI's JSON keeps the aliases.
RULE_WORDS = {"zero": "a zero forecast", "naive": "the last value (naive)", "snaive": "the seasonal naive rule",
              "ses": "simple exponential smoothing"}
RULE_NAMES = {"zero": "Zero forecast", "naive": "Naive (last value)", "snaive": "Seasonal naive",
              "ses": "Simple exponential smoothing"}  # the same, as a table's Rule column names them


def empty_excluded() -> pd.DataFrame:
    return pd.DataFrame({CUTOFF: pd.Series(dtype="datetime64[ns]"), SERIES_ID: pd.Series(dtype=object),
                         REASON: pd.Series(dtype=object)})


def empty_fallbacks() -> pd.DataFrame:
    return pd.DataFrame({MODEL: pd.Series(dtype=object), CUTOFF: pd.Series(dtype="datetime64[ns]"),
                         SERIES_ID: pd.Series(dtype=object), RULE: pd.Series(dtype=object),
                         REASON: pd.Series(dtype=object)})


def series_spans(frame: pd.DataFrame) -> pd.DataFrame:
    """First and last date of each series (index: unique_id; columns: first, last)."""
    grouped = frame.groupby(SERIES_ID, sort=True, observed=True)[DATE]
    return pd.DataFrame({"first": grouped.min(), "last": grouped.max()})


def left_out(spans: pd.DataFrame, cutoff: pd.Timestamp, forecast: np.ndarray, scored: np.ndarray) -> pd.DataFrame:
    """The series of ``spans`` a fold did not score, each with its reason.

    ``forecast``: the series active on the cutoff (the fold forecast them); ``scored``:
    those of them with at least one actual on the forecast dates.
    """
    ids = spans.index.to_numpy(dtype=object)
    scored, forecast = set(scored), set(forecast)  # set look-ups: pandas' isin on Arrow strings is slow
    missing = np.fromiter((i not in scored for i in ids), dtype=bool, count=len(ids))
    if not missing.any():
        return empty_excluded()
    spans, ids = spans[missing], ids[missing]
    off_grid = np.fromiter((i not in forecast for i in ids), dtype=bool, count=len(ids))
    cutoff = pd.Timestamp(cutoff).to_datetime64()
    reason = np.select(
        [spans["first"].to_numpy() > cutoff, spans["last"].to_numpy() < cutoff, off_grid],
        [STARTED_LATE, ENDED_EARLY, OFF_GRID], default=NO_ACTUAL)
    return pd.DataFrame({CUTOFF: np.full(len(spans), cutoff.astype("datetime64[ns]")),
                         SERIES_ID: ids, REASON: reason.astype(object)})


def fallback_rows(model: str, cutoff: pd.Timestamp, fallbacks: Sequence) -> pd.DataFrame | None:
    """One row per series of a model's ``Fallback`` records in one fold (None: none)."""
    rows = [(f.rule, f.reason, s) for f in fallbacks for s in f.series]
    if not rows:
        return None
    rules, reasons, series = zip(*rows, strict=True)
    return pd.DataFrame({MODEL: model, CUTOFF: np.full(len(series), np.datetime64(pd.Timestamp(cutoff), "ns")),
                         SERIES_ID: list(series), RULE: list(rules), REASON: list(reasons)})


def folds_of(cutoffs: Sequence) -> dict[pd.Timestamp, int]:
    """Fold number (1 = oldest) of each cutoff."""
    return {c: i for i, c in enumerate(sorted({pd.Timestamp(c) for c in cutoffs}), start=1)}


def never_scored(excluded: pd.DataFrame, n_folds: int) -> list[str]:
    """Series left out of every fold, sorted."""
    if excluded.empty or n_folds == 0:
        return []
    folds = excluded.groupby(SERIES_ID)[CUTOFF].nunique()
    return sorted(folds.index[folds >= n_folds].astype(str))


def excluded_summary(excluded: pd.DataFrame, n_series: int, cutoffs: Sequence) -> dict:
    """The JSON shape: series in scope and scored, left-out (series, fold) pairs by
    reason, the series never scored, and per fold its cutoff, its scored count and the
    ids left out by reason."""
    numbers = folds_of(cutoffs)
    never = never_scored(excluded, len(numbers))
    folds = []
    for cutoff, fold in numbers.items():
        part = excluded[pd.to_datetime(excluded[CUTOFF]) == cutoff]
        folds.append({
            "fold": fold, "cutoff": f"{cutoff:%Y-%m-%d}", "scored": n_series - len(part),
            "left_out": {reason: sorted(ids.astype(str)) for reason, ids in part.groupby(REASON)[SERIES_ID]
                         if len(ids)},
        })
    counts = excluded[REASON].value_counts()
    return {
        "series_in_scope": int(n_series), "series_scored": int(n_series - len(never)),
        "left_out": int(len(excluded)), "by_reason": {r: int(counts[r]) for r in REASONS if r in counts},
        "never_scored": never, "folds": folds,
    }


def fallback_summary(fallbacks: pd.DataFrame) -> dict[str, list[dict]]:
    """The JSON shape: per model, one entry per rule and reason with the number of
    series, the number of folds it happened in, and the series ids."""
    out: dict[str, list[dict]] = {}
    for (model, rule, reason), part in fallbacks.groupby([MODEL, RULE, REASON], sort=True):
        series = sorted(part[SERIES_ID].astype(str).unique())
        out.setdefault(str(model), []).append({
            "rule": rule, "reason": reason, "series": len(series), "folds": int(part[CUTOFF].nunique()),
            "ids": series,
        })
    return out


def scored_phrase(n_scored: int | None, n_series: int) -> str:
    """How many series a run scored, for a caption: "480 of 500 series scored"; just
    "500 series" for a run stored before Mitoshi counted them (``n_scored`` None)."""
    if n_scored is None:
        return f"{n_series:,} series"
    return f"{n_scored:,} of {n_series:,} series scored"


def forecast_counts(excluded: pd.DataFrame, n_series: int, cutoffs: Sequence) -> dict[pd.Timestamp, int]:
    """Series each fold forecast: those in scope but the ones it left out before forecasting
    (every reason but "no actual on the forecast dates", which were forecast)."""
    before = excluded[excluded[REASON] != NO_ACTUAL]
    counts = pd.to_datetime(before[CUTOFF]).value_counts()
    return {cutoff: n_series - int(counts.get(cutoff, 0)) for cutoff in folds_of(cutoffs)}


def whole_fold_fallbacks(excluded: pd.DataFrame, fallbacks: pd.DataFrame, n_series: int,
                         cutoffs: Sequence) -> dict[str, dict[int, int]]:
    """Models that forecast no series of a fold themselves: per model, each fold (by
    number) where every series it forecast fell back to a simple rule, and how many."""
    if fallbacks.empty:
        return {}
    numbers, forecast = folds_of(cutoffs), forecast_counts(excluded, n_series, cutoffs)
    counts = fallbacks.groupby([fallbacks[MODEL], pd.to_datetime(fallbacks[CUTOFF])])[SERIES_ID].nunique()
    out: dict[str, dict[int, int]] = {}
    for (model, cutoff), n in counts.items():
        if n >= forecast.get(cutoff, 0) > 0:
            out.setdefault(str(model), {})[numbers[cutoff]] = int(n)
    return out


def whole_fold_sentences(excluded: pd.DataFrame, fallbacks: pd.DataFrame, n_series: int,
                         cutoffs: Sequence) -> list[str]:
    """In words, for each model of ``whole_fold_fallbacks``: its scores in those folds are
    the rules', not its own, e.g. "lgbm fell back for all 2 series in every fold: …"."""
    n_folds = len(folds_of(cutoffs))
    lines = []
    for model, folds in whole_fold_fallbacks(excluded, fallbacks, n_series, cutoffs).items():
        sizes = set(folds.values())
        which = f"all {sizes.pop():,} series" if len(sizes) == 1 else "every series"
        lines.append(f"{fmt.model_name(model)} fell back for {which} in {folds_phrase(list(folds), n_folds)}: its scores there are the "
                     "simple rules', not its own.")
    return lines


def folds_phrase(folds: Sequence[int], n_folds: int) -> str:
    """Which folds, in words: "every fold", "fold 2", "folds 1 and 3"."""
    folds = sorted(set(folds))
    if len(folds) == n_folds and n_folds > 1:
        return "every fold"
    if len(folds) == 1:
        return f"fold {folds[0]}"
    return "folds " + ", ".join(str(f) for f in folds[:-1]) + f" and {folds[-1]}"


def sentences(excluded: pd.DataFrame, fallbacks: pd.DataFrame, n_series: int, cutoffs: Sequence) -> list[str]:
    """The accounting in words, e.g. "Scored 498 of 500 series." "2 series left out of
    fold 1: started after the cutoff." "lgbm fell back to a zero forecast for 3 series
    in every fold (never sold)." Only counts, reasons and model names: no series ids.
    A model that fell back for every series of a fold is said right after the count."""
    numbers = folds_of(cutoffs)
    n_folds = len(numbers)
    scored = n_series - len(never_scored(excluded, n_folds))
    lines = [f"Scored {scored:,} of {n_series:,} series" + (" in at least one fold." if scored < n_series else ".")
             if n_folds > 1 else f"Scored {scored:,} of {n_series:,} series."]
    lines += whole_fold_sentences(excluded, fallbacks, n_series, cutoffs)  # first: a model that was not itself
    if not excluded.empty:
        fold = pd.to_datetime(excluded[CUTOFF]).map(numbers)
        for reason in REASONS:
            mine = excluded[REASON] == reason
            if mine.any():
                count = excluded.loc[mine, SERIES_ID].nunique()
                hint = f" ({REASON_HINTS[reason]})" if reason in REASON_HINTS else ""
                lines.append(f"{count:,} series left out of {folds_phrase(fold[mine].tolist(), n_folds)}: {reason}{hint}.")
    if not fallbacks.empty:
        fold = pd.to_datetime(fallbacks[CUTOFF]).map(numbers)
        for (model, rule, reason), part in fallbacks.groupby([MODEL, RULE, REASON], sort=True):
            lines.append(f"{fmt.model_name(model)} fell back to {RULE_WORDS.get(rule, rule)} for {part[SERIES_ID].nunique():,} "
                         f"series in {folds_phrase(fold[part.index].tolist(), n_folds)} ({reason}).")
    return lines


def _ids(series: pd.Series, labels: Mapping[str, str] | None = None, shown: int = 30) -> str:
    """The series of ``series`` (ids) as people read them, sorted, at most ``shown`` then
    "… and N more"; ``labels``: id → label (``core.data.labels.series_labels``), an id it
    lacks is shown as it is."""
    labels = labels or {}
    names = sorted({labels.get(i, i) for i in series.astype(str).unique()})
    more = f" … and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


LEFT_OUT_HEADERS = ("Fold", "Cutoff", "Reason", "Series", "Which series")
FALLBACK_HEADERS = ("Model", "Rule", "Reason", "Series", "Folds", "Which series")


def left_out_table(excluded: pd.DataFrame, cutoffs: Sequence,
                   labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per fold and reason, headed ``LEFT_OUT_HEADERS``: the fold (1 = oldest),
    its cutoff, the reason, how many series, and which — by their labels (``labels``:
    id → label from ``core.data.labels.series_labels``; ids where it has none)."""
    numbers = folds_of(cutoffs)
    rows = [(numbers.get(pd.Timestamp(cutoff)), pd.Timestamp(cutoff), reason, part[SERIES_ID].nunique(),
             _ids(part[SERIES_ID], labels))
            for (cutoff, reason), part in excluded.groupby([CUTOFF, REASON], sort=True)]
    return pd.DataFrame(rows, columns=list(LEFT_OUT_HEADERS))


def fallback_table(fallbacks: pd.DataFrame, cutoffs: Sequence,
                   labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per model, rule and reason, headed ``FALLBACK_HEADERS``: the model (as in
    ``fallbacks``: callers pass names for people), the rule by name (``RULE_NAMES``),
    the reason, how many series, in which folds ("1, 2"), and which series by their
    labels (``labels`` as in ``left_out_table``)."""
    numbers = folds_of(cutoffs)
    rows = [(model, RULE_NAMES.get(rule, rule), reason, part[SERIES_ID].nunique(),
             ", ".join(str(numbers.get(pd.Timestamp(c), "?")) for c in sorted(part[CUTOFF].unique())),
             _ids(part[SERIES_ID], labels))
            for (model, rule, reason), part in fallbacks.groupby([MODEL, RULE, REASON], sort=True)]
    return pd.DataFrame(rows, columns=list(FALLBACK_HEADERS))
