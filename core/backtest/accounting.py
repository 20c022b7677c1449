"""Every series accounted for: what a backtest left out, and what a model did not forecast itself.

Two long tables travel with a run and are stored with it:

- ``excluded`` (cutoff, unique_id, reason): each series in scope that a fold did not
  score, and why (it started after the cutoff, ended before it, had no value on the
  cutoff date, or had no actual on the fold's forecast dates);
- ``fallbacks`` (model, cutoff, unique_id, rule, reason): each series a model left to a
  simple rule in a fold, the rule, and why (never sold, too short for its season, a
  fit that failed).

``excluded_summary`` and ``fallback_summary`` are their JSON shapes (the command line
writes them); ``sentences`` says them in words for the pages, the decision and the PDF
(in the current language; ``sentence_facts`` keeps them as facts, ``core.i18n.Msg``, for
a record that is read later in either language), and ``scored_phrase`` gives their
captions the count of series scored.

The reasons are stored in English (the warehouse and the command line keep them so);
``reason_fact`` / ``reason_text`` read one in the current language, a run stored before
reasons were translated included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from core.backtest.metrics import CUTOFF, MODEL
from core.columns import DATE, SERIES_ID
from core.forecast import base
from core.i18n import M_, N_, SOURCE, Fmt, Msg, gettext, render, using

REASON, RULE = "reason", "rule"
EXCLUDED_COLUMNS = (CUTOFF, SERIES_ID, REASON)
FALLBACK_COLUMNS = (MODEL, CUTOFF, SERIES_ID, RULE, REASON)

# Why a series in scope was not scored in a fold, checked in this order. Stored in English:
# people read them with ``reason_text``.
STARTED_LATE = N_("started after the cutoff")
ENDED_EARLY = N_("ended before the cutoff")
OFF_GRID = N_("no value on the cutoff date")  # its dates are off the common grid, or that period is missing
NO_ACTUAL = N_("no actual on the forecast dates")  # forecast, but it ended at the cutoff or its dates are off the grid
REASONS = (STARTED_LATE, ENDED_EARLY, OFF_GRID, NO_ACTUAL)

# What a user can do about a reason, said after it.
REASON_HINTS = {OFF_GRID: N_("its dates are off the fold's grid (another weekday?) or that period is missing"),
                NO_ACTUAL: N_("it ended at the cutoff, or its dates are off the grid")}

# The simple rules a model falls back to, as people read them in a sentence ("fell back to
# the last value (naive)") and in a table's Rule column; the CLI's JSON keeps the aliases.
# Catalog messages: show ``rule_words(rule)`` / ``rule_name(rule)``.
RULE_WORDS = {"zero": N_("a zero forecast"), "naive": N_("the last value (naive)"),
              "snaive": N_("the seasonal naive rule"), "ses": N_("simple exponential smoothing")}
RULE_NAMES = {"zero": N_("Zero forecast"), "naive": N_("Naive (last value)"), "snaive": N_("Seasonal naive"),
              "ses": N_("Simple exponential smoothing")}  # the same, as a table's Rule column names them


def rule_fact(rule: object) -> Msg | str:
    """A fallback rule as a sentence names it ("the last value (naive)"), as a fact."""
    return M_(RULE_WORDS[rule]) if rule in RULE_WORDS else str(rule)


def rule_words(rule: object) -> str:
    """A fallback rule as a sentence names it, in the current language."""
    return render(rule_fact(rule))


def rule_name(rule: object) -> str:
    """A fallback rule as a table's Rule column names it, in the current language."""
    return gettext(RULE_NAMES[rule]) if rule in RULE_NAMES else str(rule)


def reason_fact(reason: object) -> Msg | str:
    """A stored reason — why a fold left a series out (``REASONS``), or why a model left it
    to a simple rule (``core.forecast.base.reason_fact``) — as a fact that reads in the
    current language. A reason no template makes is returned as it is."""
    if reason in REASONS:
        return M_(str(reason))
    return base.reason_fact(reason)


def reason_text(reason: object) -> str:
    """A stored reason in the current language ("never sold" / 販売実績なし)."""
    return render(reason_fact(reason))


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
    return render(scored_fact(n_scored, n_series))


def scored_fact(n_scored: int | None, n_series: int) -> Msg:
    """``scored_phrase`` as a fact."""
    if n_scored is None:
        return M_("{n:,} series", n=int(n_series))
    return M_("{scored:,} of {n:,} series scored", scored=int(n_scored), n=int(n_series))


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
    return [render(m) for m in whole_fold_facts(excluded, fallbacks, n_series, cutoffs)]


def whole_fold_facts(excluded: pd.DataFrame, fallbacks: pd.DataFrame, n_series: int,
                     cutoffs: Sequence) -> list[Msg]:
    """``whole_fold_sentences`` as facts."""
    n_folds = len(folds_of(cutoffs))
    lines = []
    for model, folds in whole_fold_fallbacks(excluded, fallbacks, n_series, cutoffs).items():
        sizes = set(folds.values())
        which = folds_fact(list(folds), n_folds)
        if len(sizes) == 1:
            lines.append(M_("{model} fell back for all {n:,} series in {folds}: its scores there are the simple "
                            "rules', not its own.", model=Fmt("model_name", model), n=sizes.pop(), folds=which))
        else:
            lines.append(M_("{model} fell back for every series in {folds}: its scores there are the simple rules', "
                            "not its own.", model=Fmt("model_name", model), folds=which))
    return lines


def folds_phrase(folds: Sequence[int], n_folds: int) -> str:
    """Which folds, in words: "every fold", "fold 2", "folds 1 and 3"."""
    return render(folds_fact(folds, n_folds))


def folds_fact(folds: Sequence[int], n_folds: int) -> Msg:
    """``folds_phrase`` as a fact."""
    folds = sorted(set(int(f) for f in folds))
    if len(folds) == n_folds and n_folds > 1:
        return M_("every fold")
    if len(folds) == 1:
        return M_("fold {fold}", fold=folds[0])
    return M_("folds {first} and {last}", first=", ".join(str(f) for f in folds[:-1]), last=folds[-1])


def sentences(excluded: pd.DataFrame, fallbacks: pd.DataFrame, n_series: int, cutoffs: Sequence) -> list[str]:
    """The accounting in words, in the current language, e.g. "Scored 498 of 500 series."
    "2 series left out of fold 1: started after the cutoff." "lgbm fell back to a zero
    forecast for 3 series in every fold (never sold)." Only counts, reasons and model
    names: no series ids. A model that fell back for every series of a fold is said right
    after the count."""
    return [render(m) for m in sentence_facts(excluded, fallbacks, n_series, cutoffs)]


def sentence_facts(excluded: pd.DataFrame, fallbacks: pd.DataFrame, n_series: int, cutoffs: Sequence) -> list[Msg]:
    """``sentences`` as facts (``core.i18n.Msg``): what a record keeps (a decision's
    snapshot, ``core.i18n.to_json``) to read them later in either language."""
    numbers = folds_of(cutoffs)
    n_folds = len(numbers)
    scored = n_series - len(never_scored(excluded, n_folds))
    if n_folds > 1 and scored < n_series:
        lines = [M_("Scored {scored:,} of {n:,} series in at least one fold.", scored=scored, n=n_series)]
    else:
        lines = [M_("Scored {scored:,} of {n:,} series.", scored=scored, n=n_series)]
    lines += whole_fold_facts(excluded, fallbacks, n_series, cutoffs)  # first: a model that was not itself
    if not excluded.empty:
        fold = pd.to_datetime(excluded[CUTOFF]).map(numbers)
        for reason in REASONS:
            mine = excluded[REASON] == reason
            if mine.any():
                count = int(excluded.loc[mine, SERIES_ID].nunique())
                folds = folds_fact(fold[mine].tolist(), n_folds)
                if reason in REASON_HINTS:
                    lines.append(M_("{n:,} series left out of {folds}: {reason} ({hint}).", n=count, folds=folds,
                                    reason=M_(reason), hint=M_(REASON_HINTS[reason])))
                else:
                    lines.append(M_("{n:,} series left out of {folds}: {reason}.", n=count, folds=folds,
                                    reason=M_(reason)))
    if not fallbacks.empty:
        fold = pd.to_datetime(fallbacks[CUTOFF]).map(numbers)
        for (model, rule, reason), part in fallbacks.groupby([MODEL, RULE, REASON], sort=True):
            lines.append(M_("{model} fell back to {rule} for {n:,} series in {folds} ({reason}).",
                            model=Fmt("model_name", model), rule=rule_fact(rule), n=int(part[SERIES_ID].nunique()),
                            folds=folds_fact(fold[part.index].tolist(), n_folds), reason=reason_fact(reason)))
    return lines


def english_sentences(excluded: pd.DataFrame, fallbacks: pd.DataFrame, n_series: int, cutoffs: Sequence) -> list[str]:
    """``sentences`` in English, whatever the current language: the command line's JSON."""
    with using(SOURCE):
        return sentences(excluded, fallbacks, n_series, cutoffs)


def _ids(series: pd.Series, labels: Mapping[str, str] | None = None, shown: int = 30) -> str:
    """The series of ``series`` (ids) as people read them, sorted, at most ``shown`` then
    "… and N more"; ``labels``: id → label (``core.data.labels.series_labels``), an id it
    lacks is shown as it is."""
    labels = labels or {}
    names = sorted({labels.get(i, i) for i in series.astype(str).unique()})
    more = gettext(" … and {n:,} more").format(n=len(names) - shown) if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


# The tables' headers, in English (catalog messages): ``left_out_table`` and ``fallback_table``
# head their columns in the current language (``header``).
LEFT_OUT_HEADERS = (N_("Fold"), N_("Cutoff"), N_("Reason"), N_("Series"), N_("Which series"))
FALLBACK_HEADERS = (N_("Model"), N_("Rule"), N_("Reason"), N_("Series"), N_("Folds"), N_("Which series"))


def header(name: str) -> str:
    """A column of ``left_out_table`` / ``fallback_table`` as they head it now: ``header("Series")``."""
    return gettext(name)


def left_out_table(excluded: pd.DataFrame, cutoffs: Sequence,
                   labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per fold and reason, headed ``LEFT_OUT_HEADERS``: the fold (1 = oldest),
    its cutoff, the reason, how many series, and which — by their labels (``labels``:
    id → label from ``core.data.labels.series_labels``; ids where it has none)."""
    numbers = folds_of(cutoffs)
    rows = [(numbers.get(pd.Timestamp(cutoff)), pd.Timestamp(cutoff), reason_text(reason), part[SERIES_ID].nunique(),
             _ids(part[SERIES_ID], labels))
            for (cutoff, reason), part in excluded.groupby([CUTOFF, REASON], sort=True)]
    return pd.DataFrame(rows, columns=[header(h) for h in LEFT_OUT_HEADERS])


def fallback_table(fallbacks: pd.DataFrame, cutoffs: Sequence,
                   labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per model, rule and reason, headed ``FALLBACK_HEADERS``: the model (as in
    ``fallbacks``: callers pass names for people), the rule by name (``RULE_NAMES``),
    the reason, how many series, in which folds ("1, 2"), and which series by their
    labels (``labels`` as in ``left_out_table``)."""
    numbers = folds_of(cutoffs)
    rows = [(model, rule_name(rule), reason_text(reason), part[SERIES_ID].nunique(),
             ", ".join(str(numbers.get(pd.Timestamp(c), "?")) for c in sorted(part[CUTOFF].unique())),
             _ids(part[SERIES_ID], labels))
            for (model, rule, reason), part in fallbacks.groupby([MODEL, RULE, REASON], sort=True)]
    return pd.DataFrame(rows, columns=[header(h) for h in FALLBACK_HEADERS])
