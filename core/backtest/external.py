"""Forecasts made elsewhere — the ladder's last rung, "money, stubbornness and a neural
network" — added to a stored run and scored on the same footing as its built-in models.

An ML engineer who built a model in a notebook uploads its backtest forecasts: one row
per series, cutoff and date the run scored. They are validated against the run (its
cutoffs, its series and the dates of each fold), scored by the engine's own metrics on
the run's folds, segments and MASE/RMSSE scales, and stored under the alias
``ext:NAME`` (``core.forecast.registry.external_alias``) in the run's tables, in one
transaction, or not at all. From then on every page, chart, money simulation, test and
decision reads it as a model of the run.

The file (CSV, Parquet or Excel, read by the importer's ``core.data.reading``) has:

===========  =========================================================================
column       accepted names (any case; spaces, ``-`` and ``_`` ignored)
===========  =========================================================================
series       ``series``, ``unique_id``, ``series_id``, ``id`` — the run's series id
             (``S001/I001`` on the demo chain: the key values joined by ``/``); or,
             instead, the dataset's key columns by their names (``store_id``, ``item_id``)
date         ``date``, ``ds`` — the date forecast
cutoff       ``cutoff``, ``cutoff_date``, ``origin`` — the fold's last date of history
forecast     ``forecast``, ``yhat``, ``y_hat``, ``prediction`` — units, finite, ≥ 0
quantiles    optional, one column per level: ``q0.1`` / ``q_0.1`` / ``quantile_0.1``
             (the level as a fraction) or ``p10`` / ``p_10`` (as a percent), levels
             strictly between 0 and 1; values finite, ≥ 0 and not crossing (a lower
             level never above a higher one on the same row). Only the levels the
             backtest scores (``quantiles.LEVELS``: 0.025, 0.1, 0.5, 0.9, 0.975) are
             read, stored and scored as stated; columns at other levels are left out
             with a note (``unscored_note``), never sorted in among the scored ones
===========  =========================================================================

Other columns (``actual``, ``step``, a ``model`` column holding one model) are left out
with a note. Dates are read as the importer reads them (``core.data.parsing``), the date
and cutoff columns in one day/month order. When most dates or cutoffs are not the run's
because of one constant shift (weeks labelled by another weekday, months by their last
day) or the series ids lost their leading zeros, the refusal says so first.

Names are compared ignoring case, with the run's models and, inside the storing
transaction, with each other (``save_externals`` stores several in one transaction).

The MASE and RMSSE scales of each fold are recomputed from the run's own history before
each cutoff, exactly as ``run_backtest`` computes them (``metrics.scales`` on the fold's
panel), rather than stored: a run keeps its data's fingerprint, so the history can be
checked to be the one the run backtested, and runs stored before this module existed
take forecasts made elsewhere too. Forecasts of a built-in model uploaded as a file
score exactly the built-in model's metrics, at every level.

Mitoshi cannot check that forecasts made elsewhere did not look ahead (use data after a
cutoff): only their maker can.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from core import fmt
from core.backtest import store as runs
from core.backtest.engine import BacktestData, dataset_data, score_forecasts
from core.backtest.metrics import ACTUAL, CUTOFF, FORECAST, MODEL, SCALE_MASE, SCALE_RMSSE, STEP, scales
from core.backtest.quantiles import LEVELS
from core.backtest.splits import make_task
from core.columns import DATE, SERIES_ID, Freq, series_ids
from core.data.parsing import parse_dates, parse_numbers
from core.data.reading import read_table
from core.errors import DatasetNotFoundError, ImportProblemError, MitoshiError, WarehouseError
from core.forecast.registry import MODELS, external_alias, is_external
from core.i18n import M_, N_, _, gettext, ngettext, nM_
from core.warehouse import Warehouse

SERIES_NAMES = ("series", "unique_id", "series_id", "id")
DATE_NAMES = ("date", "ds")
CUTOFF_NAMES = ("cutoff", "cutoff_date", "origin")
FORECAST_NAMES = ("forecast", "yhat", "y_hat", "prediction")
IGNORED_NAMES = ("actual", "step", "model")  # what the run's own exports add; left out with a note
TEMPLATE_COLUMNS = ("series", "date", "cutoff", "forecast")
MAX_NAME_CHARS = 60
MAX_DESCRIPTION_CHARS = 2000
EXAMPLES = 3  # examples quoted per problem
# In English (catalog messages): show ``gettext(LOOK_AHEAD)``, ``gettext(UNPUBLISHABLE)``.
LOOK_AHEAD = N_("Mitoshi cannot check that forecasts made elsewhere did not look ahead (use data after a cutoff): "
                "only their maker can.")
UNPUBLISHABLE = N_("forecasts made elsewhere cannot be re-fitted by Mitoshi: publish them from where they were made, "
                   "or choose a built-in model")
# Weekday names as people read them, by pandas' dayofweek (Monday = 0).
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday"))

_Q_COLUMN = re.compile(r"^(?:q|quantile)_?(\d*\.?\d+)$")
_P_COLUMN = re.compile(r"^p_?(\d+(?:\.\d+)?)$")


class ExternalForecastError(MitoshiError):
    """Forecasts made elsewhere cannot join the run as they are. The message names the
    first problem; ``problems`` lists every one found, each saying what is wrong and how
    to fix it (in the language current when they were found). Nothing was stored."""

    def __init__(self, problems: Sequence[str]) -> None:
        problems = [str(p) for p in problems]
        more = len(problems) - 1
        super().__init__(M_("{problem} Nothing was stored.", problem=problems[0]) if not more else
                         nM_("{problem} (+{n} more problem) Nothing was stored.",
                             "{problem} (+{n} more problems) Nothing was stored.", "n", problem=problems[0], n=more))
        self.problems = problems


@dataclass(frozen=True)
class ExternalModel:
    """Forecasts made elsewhere as stored with a run (a row of ``run_external_models``)."""

    run_id: str
    model: str  # the alias, ``ext:NAME``
    name: str
    effort_weeks: float | None  # the effort its maker states, in person-weeks
    description: str
    source: str  # the file it came from
    n_rows: int  # forecasts stored (one per series, cutoff and date the run scored)
    created_at: datetime


@dataclass(frozen=True)
class PreparedExternal:
    """Forecasts made elsewhere, validated and scored, ready to store (nothing written yet).

    ``forecasts``: unique_id, ds, cutoff, step, actual, model, forecast — one row per row
    of the run's grid, in the engine's order (cutoff, series, date). ``quantiles``:
    unique_id, ds, cutoff, level, value (empty when the file stated none). ``metrics``:
    level, group, model, metric, value, as ``run_backtest`` computes them.
    """

    run_id: str
    model: str
    name: str
    effort_weeks: float | None
    description: str
    source: str
    forecasts: pd.DataFrame
    quantiles: pd.DataFrame
    metrics: pd.DataFrame
    levels: tuple[float, ...]
    notes: tuple[str, ...] = ()

    @property
    def overall(self) -> dict[str, float]:
        """The overall metrics by name: {"wape": 0.31, ...}."""
        part = self.metrics[self.metrics["level"] == "overall"]
        return {str(m): float(v) for m, v in zip(part["metric"], part["value"], strict=True)}


# ---------------------------------------------------------------------------------
# The file's columns
# ---------------------------------------------------------------------------------
def _normal(name: object) -> str:
    """A column name as matched: NFKC, lower case, no spaces, hyphens or underscores
    (``Unique ID`` and ``unique_id`` are the same column)."""
    return re.sub(r"[\s\-_]+", "", unicodedata.normalize("NFKC", str(name)).strip().lower())


def quantile_level(column: object) -> float | None:
    """The level a quantile column states, or None when the name is no quantile's:
    ``q0.1``, ``q_0.1``, ``quantile_0.1`` → 0.1 (a fraction); ``p10``, ``p_10`` → 0.1 (a
    percent); ``p2.5`` → 0.025. Raises ``ValueError`` (with the fix) for a name that looks
    like a quantile but states no level strictly between 0 and 1 (``q10``, ``p100``)."""
    name = unicodedata.normalize("NFKC", str(column)).strip().lower().replace(" ", "").replace("-", "_")
    match = _Q_COLUMN.match(name)
    if match:
        level = float(match.group(1))
        if not 0 < level < 1:
            raise ValueError(_("The quantile column '{column}' states the level {level}: a q-column gives it as a "
                               "fraction between 0 and 1 (q0.1); write p{level} for a percent.").format(
                                   column=column, level=match.group(1)))
        return level
    match = _P_COLUMN.match(name)
    if match:
        percent = float(match.group(1))
        if not 0 < percent < 100:
            raise ValueError(_("The quantile column '{column}' states {level} %: a p-column gives the level as a "
                               "percent strictly between 0 and 100 (p10, p90).").format(
                                   column=column, level=match.group(1)))
        return round(percent / 100, 10)
    return None


def _level_name(level: float) -> str:
    return f"q{level:g}"


@dataclass(frozen=True)
class _Columns:
    series: str | None
    keys: tuple[str, ...]  # the dataset's key columns, when there is no series column
    date: str
    cutoff: str
    forecast: str
    quantiles: dict[float, str]  # the levels the backtest scores (``quantiles.LEVELS``) → column
    unscored: dict[float, str]  # quantile columns at other levels: left out, with a note
    ignored: tuple[str, ...]


# The file's columns by their role, as a sentence names them (catalog messages).
ROLES = {"series": N_("series id"), "date": N_("date"), "cutoff": N_("cutoff"), "forecast": N_("forecast")}


def _find(frame: pd.DataFrame, names: Sequence[str], role: str, problems: list[str]) -> str | None:
    wanted = {_normal(n) for n in names}
    found = [c for c in frame.columns if _normal(c) in wanted]
    if len(found) > 1:
        problems.append(_("The file has {n} columns that could be the {role}: {columns}. Keep one of them.").format(
            n=len(found), role=gettext(ROLES[role]), columns=", ".join(map(repr, found))))
        return None
    return found[0] if found else None


def _columns(frame: pd.DataFrame, keys: Sequence[str]) -> _Columns:
    problems: list[str] = []
    series = _find(frame, SERIES_NAMES, "series", problems)
    used_keys: tuple[str, ...] = ()
    if series is None and keys:
        by_name = {_normal(c): c for c in frame.columns}
        if all(_normal(k) in by_name for k in keys):
            used_keys = tuple(by_name[_normal(k)] for k in keys)
    date = _find(frame, DATE_NAMES, "date", problems)
    cutoff = _find(frame, CUTOFF_NAMES, "cutoff", problems)
    forecast = _find(frame, FORECAST_NAMES, "forecast", problems)
    missing = []
    if series is None and not used_keys:
        missing.append(_("the series ({names}; or the key columns {keys})").format(
            names=", ".join(SERIES_NAMES), keys=", ".join(keys)) if keys else
            _("the series ({names})").format(names=", ".join(SERIES_NAMES)))
    for column, role, names in ((date, "date", DATE_NAMES), (cutoff, "cutoff", CUTOFF_NAMES),
                                (forecast, "forecast", FORECAST_NAMES)):
        if column is None:
            missing.append({"date": _("the date ({names})"), "cutoff": _("the cutoff ({names})"),
                            "forecast": _("the forecast ({names})")}[role].format(names=", ".join(names)))
    if missing and not problems:
        problems.append(_("The file has no column for {missing}. Its columns are {columns}; name them as the template "
                          "does: {template}.").format(missing="; ".join(missing),
                                                      columns=", ".join(map(repr, frame.columns)),
                                                      template=", ".join(TEMPLATE_COLUMNS)))
    quantiles: dict[float, str] = {}
    taken = {series, date, cutoff, forecast, *used_keys}
    ignored = []
    for column in frame.columns:
        if column in taken:
            continue
        try:
            level = quantile_level(column)
        except ValueError as error:
            problems.append(str(error))
            continue
        if level is None:
            ignored.append(str(column))
        elif level in quantiles:
            problems.append(_("The columns '{first}' and '{second}' both state the quantile {level}. Keep one of "
                              "them.").format(first=quantiles[level], second=column, level=f"{level:g}"))
        else:
            quantiles[level] = str(column)
    if problems:
        raise ExternalForecastError(problems)
    scored = {scored: column for level, column in sorted(quantiles.items())
              for scored in LEVELS if abs(level - scored) < 1e-9}
    unscored = {level: column for level, column in sorted(quantiles.items()) if not _scored_level(level)}
    return _Columns(series, used_keys, date, cutoff, forecast, scored, unscored, tuple(ignored))


def _scored_level(level: float) -> bool:
    """Whether the backtest scores a quantile at ``level`` (one of ``quantiles.LEVELS``)."""
    return any(abs(level - scored) < 1e-9 for scored in LEVELS)


def stated_note(levels: Sequence[float], columns: Sequence[str] = ()) -> str:
    """How the spread of forecasts made elsewhere with stated quantiles is scored."""
    stated = ", ".join(f"{level:g}" for level in levels)
    source = _(" (from {columns})").format(columns=", ".join(map(repr, columns))) if columns else ""
    rest = [level for level in LEVELS if not any(abs(level - s) < 1e-9 for s in levels)]
    if rest:
        return _("Stated quantiles at {stated}{source} are scored as stated: pinball loss, coverage and calibration "
                 "read them at those levels; at {rest} they get cross-conformal quantiles from their own errors in "
                 "the other folds, as the built-in models do.").format(
                     stated=stated, source=source, rest=", ".join(f"{level:g}" for level in rest))
    return _("Stated quantiles at {stated}{source} are scored as stated: pinball loss, coverage and calibration read "
             "them at those levels.").format(stated=stated, source=source)


def unscored_note(unscored: dict[float, str]) -> str:
    """Why quantile columns at levels the backtest does not score were left out."""
    shown = ", ".join(f"'{column}' ({level:g})" for level, column in unscored.items())
    levels = ", ".join(f"{level:g}" for level in LEVELS)
    return _("Left out the quantile column(s) {shown}: the backtest scores quantiles at {levels} only (the median and "
             "the 80 % and 95 % intervals), so a quantile at another level would be scored as none of them. At the "
             "levels you do not state, the forecasts get cross-conformal quantiles from their own errors in the other "
             "folds, as the built-in models do; name columns p2.5, p10, p50, p90, p97.5 (or q0.025 … q0.975) to have "
             "yours scored.").format(shown=shown, levels=levels)


# ---------------------------------------------------------------------------------
# The run's side: its grid and its data
# ---------------------------------------------------------------------------------
def expected_grid(warehouse: Warehouse, run_id: str) -> pd.DataFrame:
    """The rows a model of the run is scored on: unique_id, ds, cutoff, step, actual, one
    per series, cutoff and date with an actual, ordered as the engine scores them (cutoff,
    series, date). Every built-in model of a run is scored on the same rows; they are read
    from the first built-in model (by alias). Raises ``ExternalForecastError`` for a run
    with no built-in forecast stored."""
    models = warehouse.query("SELECT DISTINCT model FROM run_forecasts WHERE run_id = ? ORDER BY model", [run_id])
    builtin = [m for m in models["model"] if not is_external(m)]
    if not builtin:
        raise ExternalForecastError([_("The run {run_id} has no forecast of a built-in model to take its series, "
                                       "cutoffs and dates from: add forecasts made elsewhere to a run that scored "
                                       "at least one built-in model.").format(run_id=run_id)])
    grid = warehouse.query(
        "SELECT unique_id, ds, cutoff, step, actual FROM run_forecasts WHERE run_id = ? AND model = ? "
        "ORDER BY cutoff, unique_id, ds", [run_id, builtin[0]])
    grid[DATE] = pd.to_datetime(grid[DATE]).astype("datetime64[ns]")
    grid[CUTOFF] = pd.to_datetime(grid[CUTOFF]).astype("datetime64[ns]")
    grid[SERIES_ID] = grid[SERIES_ID].astype(str)
    # Python's string order, as the engine's np.sort of the series ids (DuckDB's collation may differ).
    return grid.sort_values([CUTOFF, SERIES_ID, DATE], kind="stable").reset_index(drop=True)


def template(warehouse: Warehouse, run_id: str) -> pd.DataFrame:
    """The file the run expects, to fill in: series, date, cutoff (``YYYY-MM-DD`` text)
    and an empty forecast, one row per series, cutoff and date the run scored. No actual:
    the template gives no one a reason to look at the future."""
    grid = expected_grid(warehouse, run_id)
    return pd.DataFrame({"series": grid[SERIES_ID], "date": grid[DATE].dt.strftime("%Y-%m-%d"),
                         "cutoff": grid[CUTOFF].dt.strftime("%Y-%m-%d"), "forecast": np.nan})


def run_data(warehouse: Warehouse, run: runs.RunInfo, data: BacktestData | None = None) -> BacktestData:
    """The series ``run`` backtested, up to the last date it used: ``data`` (a run made
    from a file: that file, read as the command line reads it), or the run's dataset in
    its scope. Raises ``ExternalForecastError`` when they are not the series the run
    backtested (its data fingerprint differs): the folds' scales could not be the run's."""
    if data is None:
        if run.dataset_id is None:
            raise ExternalForecastError([
                _("The run '{run}' was made from the file '{file}', not from a dataset of the warehouse: give that "
                  "file again to score forecasts against the run ({command}).").format(
                      run=run.name, file=run.dataset_name,
                      command=f"python -m core.backtest --run {run.run_id} --data FILE --series-cols … --date-col … "
                              "--target-col … --freq … --external NAME=FILE")])
        try:
            dataset = warehouse.get_dataset(run.dataset_id)
        except DatasetNotFoundError:
            raise ExternalForecastError([
                _("The dataset of the run '{run}' ('{dataset}') was deleted: forecasts cannot be scored without its "
                  "history (MASE and RMSSE are scaled by it). Import it again and run a new backtest.").format(
                      run=run.name, dataset=run.dataset_name)
            ]) from None
        data = dataset_data(warehouse, dataset, run.scope)
    end = runs.backtested_until(warehouse, run)
    if end is not None:
        data = replace(data, frame=data.frame[data.frame[DATE] <= pd.Timestamp(end)].reset_index(drop=True))
    if data.fingerprint() != run.fingerprint:
        raise ExternalForecastError([
            _("The series of '{data}' are not those the run '{run}' backtested (data fingerprint {fingerprint}, the "
              "run's {expected}): the data was replaced or changed since. Forecasts are scored on the run's own "
              "history; run a new backtest on the data as it is and add them to that run.").format(
                  data=data.name, run=run.name, fingerprint=data.fingerprint(), expected=run.fingerprint)])
    return data


def fold_scales(data: BacktestData, run: runs.RunInfo, cutoffs: Sequence[pd.Timestamp]) -> pd.DataFrame:
    """Each fold's MASE and RMSSE scale per series: unique_id, cutoff, scale_mase,
    scale_rmsse — ``metrics.scales`` on the panel of the fold's task, as ``run_backtest``
    computes them (same split, window and season)."""
    parts = []
    for cutoff in cutoffs:
        task, _actuals = make_task(data.frame, cutoff, data.freq, run.config.split, keys=data.keys,
                            attributes=data.attributes, exog_known=data.exog_known, orders=data.orders,
                            seed=run.config.seed)
        mase_scale, rmsse_scale = scales(task.panel.values, task.season_length)
        parts.append(pd.DataFrame({SERIES_ID: task.series_ids, CUTOFF: pd.Timestamp(cutoff),
                                   SCALE_MASE: mase_scale, SCALE_RMSSE: rmsse_scale}))
    out = pd.concat(parts, ignore_index=True)
    out[SERIES_ID] = out[SERIES_ID].astype(str)
    out[CUTOFF] = out[CUTOFF].astype("datetime64[ns]")
    return out


# ---------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------
def _rows(index: pd.Index | np.ndarray, limit: int = EXAMPLES) -> str:
    """File row numbers as people count them (the header is row 1)."""
    numbers = [f"{int(i) + 2:,}" for i in list(index)[:limit]]
    return ngettext("row {rows}", "rows {rows}", len(numbers)).format(rows=", ".join(numbers))


def _examples(frame: pd.DataFrame) -> pd.DataFrame:
    """Up to ``EXAMPLES`` rows of ``frame``, from as many series and cutoffs as it has:
    three dates of one series say less than one date of three."""
    first = frame.drop_duplicates([SERIES_ID, CUTOFF]).head(EXAMPLES)
    return pd.concat([first, frame.drop(index=first.index)]).head(EXAMPLES)


def _where(frame: pd.DataFrame) -> str:
    """``S003/I017 on 2026-09-12 (cutoff 2026-09-05)`` for example rows of ``frame``."""
    return "; ".join(_("{series} on {date} (cutoff {cutoff})").format(
        series=row[SERIES_ID], date=f"{pd.Timestamp(row[DATE]):%Y-%m-%d}", cutoff=f"{pd.Timestamp(row[CUTOFF]):%Y-%m-%d}")
        for _index, row in _examples(frame).iterrows())


def _check_name(warehouse: Warehouse, run_id: str, name: str) -> str:
    name = str(name).strip()
    if not name:
        raise ExternalForecastError([_("Give the forecasts a name, e.g. 'N-BEATS v2' or 'team B notebook'.")])
    if len(name) > MAX_NAME_CHARS:
        raise ExternalForecastError([_("The name '{name}…' is {n} characters long; keep it to {most}.").format(
            name=name[:MAX_NAME_CHARS], n=len(name), most=MAX_NAME_CHARS)])
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ExternalForecastError([_("The name holds a line break or a control character; give it on one line.")])
    builtin = ({a.casefold() for a in MODELS} | {cls.name.casefold() for cls in MODELS.values()}
               | {gettext(cls.name).casefold() for cls in MODELS.values()})
    if name.casefold() in builtin:
        raise ExternalForecastError([_("'{name}' is the name of a built-in model: forecasts made elsewhere under it "
                                       "would be mistaken for it. Choose another name, e.g. '{name} (notebook)'.")
                                     .format(name=name)])
    taken = _taken(warehouse.query("SELECT DISTINCT model FROM run_forecasts WHERE run_id = ?", [run_id])["model"])
    if name.casefold() in taken:
        raise ExternalForecastError([_taken_message(name, taken[name.casefold()])])
    return name


def _taken(models: Sequence[str]) -> dict[str, str]:
    """The names of forecasts made elsewhere among ``models`` (aliases), case-folded → alias:
    names are compared ignoring case ('Deep' and 'deep' would be two models no one tells apart)."""
    return {fmt.model_name(m).casefold(): m for m in models if is_external(m)}


def _taken_message(name: str, alias: str) -> str:
    if fmt.model_name(alias) == name:
        return _("The run already has forecasts named '{name}': choose another name, or remove those first.").format(
            name=name)
    return _("The run already has forecasts named '{stored}' (names are compared ignoring case: '{name}' is the same "
             "name): choose another name, or remove those first.").format(stored=fmt.model_name(alias), name=name)


def _effort(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        weeks = float(value)
    except (TypeError, ValueError):
        weeks = float("nan")
    if not np.isfinite(weeks) or weeks < 0:
        raise ExternalForecastError([_("The effort is given in person-weeks, a number of 0 or more (e.g. 6); got "
                                       "'{value}'. Leave it empty when nobody knows.").format(value=value)])
    return weeks


def _numbers(raw: pd.Series, column: str, decimal_comma: bool, problems: list[str]) -> pd.Series:
    """A column of forecasts or quantiles as float64; a problem per kind of bad value."""
    values = parse_numbers(raw, decimal_comma, column).values
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        infinite = np.isinf(raw.astype("float64"))
    else:  # "inf", "-Infinity", "1e400": numbers, but not finite ones
        infinite = np.isinf(pd.to_numeric(raw.astype("string").str.strip(), errors="coerce").astype("float64"))
    infinite = pd.Series(np.asarray(infinite, dtype=bool), index=raw.index)
    blank = raw.isna() & ~infinite
    text = values.isna() & ~infinite & ~blank
    if blank.any():
        problems.append(_("{n:,} value(s) of '{column}' are empty ({rows}): give a forecast on every row.").format(
            n=int(blank.sum()), column=column, rows=_rows(raw.index[blank])))
    for mask, message in (
        (text, _("{n:,} value(s) of '{column}' are not numbers ({rows}: {values}): write plain numbers such as 12.5.")),
        (infinite, _("{n:,} value(s) of '{column}' are infinite ({rows}: {values}): a forecast must be a finite "
                     "number of units.")),
    ):
        if mask.any():
            quoted = ", ".join(f'"{v}"' for v in raw[mask].astype(str).head(EXAMPLES))
            problems.append(message.format(n=int(mask.sum()), column=column, rows=_rows(raw.index[mask]),
                                           values=quoted))
    negative = values < 0
    if negative.any():
        problems.append(_("{n:,} value(s) of '{column}' are negative ({rows}: {values}): demand is never below 0 — "
                          "clip them at 0 where the model made them.").format(
                              n=int(negative.sum()), column=column, rows=_rows(values.index[negative]),
                              values=", ".join(fmt.trimmed(v, 3) for v in values[negative].head(EXAMPLES))))
    return values


def _dates_and_cutoffs(dates: pd.Series, cutoffs: pd.Series, names: tuple[str, str], freq: Freq,
                       series: pd.Series, problems: list[str], notes: list[str]) -> tuple[pd.Series, pd.Series]:
    """The date and the cutoff columns as dates, read in ONE day/month order: a file
    written by one system writes both alike, and a file's few cutoffs alone (one per
    fold, 2/3/2024 and 3/3/2024) rarely tell 2 March from 3 February. The order is the
    one that makes every value of both columns a date, else the one that puts each
    series' dates on a regular grid at the run's frequency (``parse_dates``); the
    cutoffs do not vote on regularity (they are weeks apart by design)."""
    if pd.api.types.is_datetime64_any_dtype(dates) or pd.api.types.is_datetime64_any_dtype(cutoffs):
        # typed dates (Parquet, Excel) have no day/month order to decide
        parsed = [parse_dates(dates, freq, series, names[0]), parse_dates(cutoffs, freq, None, names[1])]
        values = [parsed[0].values, parsed[1].values]
        notes.extend(p.note for p in parsed if p.note)
    else:
        both = pd.concat([dates.astype(object), cutoffs.astype(object)], ignore_index=True)
        labels = pd.concat([series.astype(object), pd.Series(None, index=cutoffs.index, dtype=object)],
                           ignore_index=True)
        parsed = parse_dates(both, freq, labels, names[0])
        values = [pd.Series(parsed.values.iloc[:len(dates)].to_numpy(), index=dates.index),
                  pd.Series(parsed.values.iloc[len(dates):].to_numpy(), index=cutoffs.index)]
        if parsed.note:
            notes.append(_("{note} '{column}' was read in the same order.").format(note=parsed.note, column=names[1]))
    for raw, value, column in zip((dates, cutoffs), values, names, strict=True):
        bad = value.isna()
        if bad.any():
            shown = ", ".join(f'"{v}"' for v in raw[bad].astype(str).head(EXAMPLES))
            problems.append(_("{n:,} value(s) of '{column}' are not dates ({rows}: {values}): write dates as "
                              "YYYY-MM-DD, as in the template.").format(n=int(bad.sum()), column=column,
                                                                        rows=_rows(raw.index[bad]), values=shown))
    return values[0].dt.normalize(), values[1].dt.normalize()


def _label_hints(found: pd.DataFrame, grid: pd.DataFrame, cutoffs: Sequence[pd.Timestamp], freq: Freq) -> list[str]:
    """Why most dates or cutoffs of the file are not the run's, when one constant shift
    explains it: weeks labelled by another weekday (a week-ending Sunday where the run's
    weeks are labelled by their Monday), months by their last day instead of their first,
    or every date a few days off. Empty when no such shift explains them."""
    hints = []
    for column, known in ((DATE, set(grid[DATE])), (CUTOFF, set(cutoffs))):
        values = pd.Series(pd.unique(found[column].dropna()), dtype="datetime64[ns]")
        if values.empty or values.isin(known).mean() >= 0.5 or not known:
            continue
        what, one = (_("dates"), _("date")) if column == DATE else (_("cutoffs"), _("cutoff"))
        theirs = next(iter(sorted(known)))
        if freq == Freq.MONTHLY:
            for day in ("start", "end"):
                moved = values.dt.to_period("M").dt.to_timestamp(how=day).dt.normalize()
                if moved.isin(known).mean() >= 0.9:
                    hint = (_("The file's {what} are not the days the run labels its months by: the run labels each "
                              "month by its first day (e.g. {theirs}), the file by another (e.g. {mine}). Write each "
                              "month's {one} as its first day, as the template does.") if day == "start" else
                            _("The file's {what} are not the days the run labels its months by: the run labels each "
                              "month by its last day (e.g. {theirs}), the file by another (e.g. {mine}). Write each "
                              "month's {one} as its last day, as the template does."))
                    hints.append(hint.format(what=what, one=one, theirs=f"{theirs:%Y-%m-%d}",
                                             mine=f"{values.iloc[0]:%Y-%m-%d}"))
                    break
            continue
        shares = {days: (values - pd.Timedelta(days=days)).isin(known).mean() for days in range(-6, 7) if days}
        days = max(shares, key=lambda d: (shares[d], -abs(d)))
        if shares[days] < 0.9:
            continue
        if freq == Freq.WEEKLY:
            why = _(" ({mine}s where the run's are {theirs}s): the run's weeks are labelled by their {theirs}, e.g. "
                    "{date}").format(mine=gettext(WEEKDAYS[values.iloc[0].weekday()]),
                                     theirs=gettext(WEEKDAYS[theirs.weekday()]), date=f"{theirs:%Y-%m-%d}")
        else:
            why = _(" (e.g. {mine}; the run's include {theirs})").format(mine=f"{values.iloc[0]:%Y-%m-%d}",
                                                                       theirs=f"{theirs:%Y-%m-%d}")
        if days > 0:
            hint = ngettext("Your {what} are {n} day after the run's{why}. Move every {one} {n} day earlier, as the "
                            "template writes them.", "Your {what} are {n} days after the run's{why}. Move every {one} "
                            "{n} days earlier, as the template writes them.", abs(days))
        else:
            hint = ngettext("Your {what} are {n} day before the run's{why}. Move every {one} {n} day later, as the "
                            "template writes them.", "Your {what} are {n} days before the run's{why}. Move every "
                            "{one} {n} days later, as the template writes them.", abs(days))
        hints.append(hint.format(what=what, one=one, n=abs(days), why=why))
    return hints


def _bare(series_id: str) -> str:
    """A series id with the leading zeros of its numeric parts dropped: ``A/007`` → ``A/7``."""
    return "/".join((part.lstrip("0") or "0") if part.isdigit() else part for part in str(series_id).split("/"))


def _zeros_hint(found_ids: pd.Series, run_ids: pd.Series) -> str | None:
    """The hint for series ids that are the run's only without their leading zeros (a key
    column read as a number: ``A/0`` for the run's ``A/000``); None when that is not why."""
    known = set(run_ids)
    unknown = sorted(set(found_ids) - known)
    if not unknown:
        return None
    by_bare: dict[str, list[str]] = {}
    for series_id in known:
        by_bare.setdefault(_bare(series_id), []).append(series_id)
    pairs = [(u, by_bare[_bare(u)][0]) for u in unknown if len(by_bare.get(_bare(u), ())) == 1]
    if len(pairs) < max(1, len(unknown) / 2):
        return None
    shown = "; ".join(_("'{file}' is '{run}' in the run").format(file=u, run=r) for u, r in pairs[:EXAMPLES])
    return _("{n:,} series id(s) of the file are the run's only without their leading zeros ({shown}): a key column "
             "was read as a number and lost its zeros. Write the ids as text, as the template does (in pandas: read "
             "the keys with dtype=str).").format(n=len(pairs), shown=shown)


def _quantile_rows(frame: pd.DataFrame, levels: dict[float, str], problems: list[str]) -> pd.DataFrame:
    """unique_id, ds, cutoff, level, value; a problem where quantiles cross."""
    ordered = list(levels)
    for low, high in zip(ordered, ordered[1:], strict=False):
        crossed = frame[_level_name(low)] > frame[_level_name(high)]
        if crossed.any():
            first = crossed.idxmax()
            problems.append(_(
                "{n:,} row(s) have quantiles that cross: '{low}' above '{high}' ({rows}; e.g. {low_value} > "
                "{high_value}). A lower quantile can never be above a higher one: sort each row's quantiles (or fix "
                "the model that made them).").format(
                    n=int(crossed.sum()), low=levels[low], high=levels[high], rows=_rows(frame.index[crossed]),
                    low_value=fmt.trimmed(frame.at[first, _level_name(low)], 3),
                    high_value=fmt.trimmed(frame.at[first, _level_name(high)], 3)))
    if not ordered:
        return pd.DataFrame({SERIES_ID: pd.Series(dtype=str), DATE: pd.Series(dtype="datetime64[ns]"),
                             CUTOFF: pd.Series(dtype="datetime64[ns]"), "level": pd.Series(dtype=float),
                             "value": pd.Series(dtype=float)})
    long = frame.melt(id_vars=[SERIES_ID, DATE, CUTOFF], value_vars=[_level_name(q) for q in ordered],
                      var_name="level", value_name="value")
    long["level"] = long["level"].map({_level_name(q): q for q in ordered}).astype(float)
    return long


def _compare(found: pd.DataFrame, grid: pd.DataFrame, cutoffs: Sequence[pd.Timestamp], problems: list[str]) -> None:
    """Missing and extra rows against the run's grid, with counts and examples."""
    keys = [SERIES_ID, CUTOFF, DATE]
    both = found[keys].merge(grid[keys], on=keys, how="outer", indicator=True)
    missing = both[both["_merge"] == "right_only"].sort_values([CUTOFF, SERIES_ID, DATE])
    extra = both[both["_merge"] == "left_only"].sort_values([CUTOFF, SERIES_ID, DATE])
    extra = extra[extra[CUTOFF].isin(list(cutoffs))]  # rows of a cutoff the run lacks are reported as such
    if len(missing):
        problems.append(_("{n:,} of the run's {rows:,} rows are missing in {series:,} series and {cutoffs:,} of the "
                          "run's {folds} cutoffs, e.g. {where}. Give a forecast for every series, cutoff and date the "
                          "run scored: the run's template lists them.").format(
                              n=len(missing), rows=len(grid), series=missing[SERIES_ID].nunique(),
                              cutoffs=missing[CUTOFF].nunique(), folds=len(cutoffs), where=_where(missing)))
    if len(extra):
        series_at = set(zip(grid[SERIES_ID], grid[CUTOFF], strict=True))
        reasons = []
        for _index, row in _examples(extra).iterrows():
            if (row[SERIES_ID], row[CUTOFF]) not in series_at:
                why = _("the run scored no such series at this cutoff")
            else:
                why = _("not a date this fold scored")
            reasons.append(_("{series} on {date} (cutoff {cutoff}: {why})").format(
                series=row[SERIES_ID], date=f"{pd.Timestamp(row[DATE]):%Y-%m-%d}",
                cutoff=f"{pd.Timestamp(row[CUTOFF]):%Y-%m-%d}", why=why))
        problems.append(_("{n:,} row(s) are not in the run, e.g. {examples}. Remove them: the run scores only the rows "
                          "of its template (a date with no actual sale recorded is not scored).").format(
                              n=len(extra), examples="; ".join(reasons)))


def _read(data: bytes, file_name: str) -> tuple[pd.DataFrame, bool, tuple[str, ...]]:
    try:
        raw = read_table(data, file_name)
    except ImportProblemError as error:
        raise ExternalForecastError([str(error)]) from error
    if raw.frame.empty:
        raise ExternalForecastError([_("'{file}' has a header but no rows: give one row per series, cutoff and date "
                                       "(download the run's template).").format(file=file_name)])
    return raw.frame.reset_index(drop=True), raw.decimal_comma, tuple(str(note) for note in raw.notes)


def prepare_external(
    warehouse: Warehouse,
    run_id: str,
    name: str,
    data: bytes,
    file_name: str,
    effort_weeks: float | None = None,
    description: str = "",
    series_data: BacktestData | None = None,
) -> PreparedExternal:
    """Read, validate and score forecasts made elsewhere for the stored run ``run_id``;
    write nothing (``save_external`` stores the result).

    ``data``/``file_name``: the file's bytes and name (CSV, Parquet or Excel; the format
    is in the module docstring). ``effort_weeks``: the effort its maker states (person-
    weeks, ≥ 0, or None). ``series_data``: for a run made from a file, that file read as
    the command line reads it (see ``run_data``). Raises ``ExternalForecastError`` with
    every problem found (columns, values, duplicates, cutoffs, missing and extra rows,
    crossing quantiles, the name) or when the run's history cannot be rebuilt; the
    run's own errors (``WarehouseError``) for an unknown run.
    """
    run = runs.get_run(warehouse, run_id)
    name = _check_name(warehouse, run_id, name)
    weeks = _effort(effort_weeks)
    description = str(description or "").strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ExternalForecastError([_("The description is {n:,} characters long; keep it to {most:,} (link to the "
                                       "notebook for the rest).").format(n=len(description), most=MAX_DESCRIPTION_CHARS)])
    alias = external_alias(name)
    frame, decimal_comma, notes = _read(data, file_name)
    keys = tuple(series_data.keys) if series_data is not None else _run_keys(warehouse, run)
    columns = _columns(frame, keys)
    notes = list(notes)
    problems: list[str] = []

    model_column = next((c for c in columns.ignored if _normal(c) == "model"), None)
    if model_column is not None:
        held = frame[model_column].dropna().astype(str).unique()
        if len(held) > 1:
            raise ExternalForecastError([
                _("The file holds the forecasts of {n} models (column '{column}': {models}): keep the rows of one "
                  "model, and add each model under its own name.").format(
                      n=len(held), column=model_column,
                      models=", ".join(held[:EXAMPLES]) + (", …" if len(held) > EXAMPLES else ""))])
    if columns.unscored:
        notes.append(unscored_note(columns.unscored))
    if columns.ignored:
        notes.append(_("Left out the column(s) {columns}: only series, date, cutoff, forecast and quantile columns are "
                       "read.").format(columns=", ".join(map(repr, columns.ignored))))

    if columns.series is not None:
        ids = frame[columns.series].astype("string").str.strip()
        blank = ids.isna() | ids.eq("")
        if blank.any():
            problems.append(_("{n:,} row(s) have no series id ({rows}): give each row its series, as in the "
                              "template.").format(n=int(blank.sum()), rows=_rows(frame.index[blank])))
    else:
        parts = frame[list(columns.keys)].astype("string").apply(lambda s: s.str.strip())
        blank = parts.isna().any(axis=1) | parts.eq("").any(axis=1)
        if blank.any():
            problems.append(_("{n:,} row(s) have an empty key ({rows}): give each row its {keys}.").format(
                n=int(blank.sum()), rows=_rows(frame.index[blank]), keys=", ".join(columns.keys)))
        ids = series_ids(parts.fillna(""), list(columns.keys)).astype("string")
        notes.append(_("Series ids were made from the key columns {keys} (e.g. '{example}').").format(
            keys=", ".join(columns.keys), example=ids.iloc[0]))
    ids = ids.fillna("").astype(str)
    ds, cutoff = _dates_and_cutoffs(frame[columns.date], frame[columns.cutoff], (str(columns.date),
                                    str(columns.cutoff)), run.freq, ids, problems, notes)
    forecast = _numbers(frame[columns.forecast], str(columns.forecast), decimal_comma, problems)
    if _normal(columns.forecast) != "forecast":  # matched leniently: say which column was read
        notes.append(_("Read the column '{column}' as the forecast.").format(column=columns.forecast))
    found = pd.DataFrame({SERIES_ID: ids, DATE: ds, CUTOFF: cutoff, FORECAST: forecast}, index=frame.index)
    for level, column in columns.quantiles.items():
        found[_level_name(level)] = _numbers(frame[column], column, decimal_comma, problems)

    usable = ~blank & ds.notna() & cutoff.notna()
    keyed = found[usable]
    if keyed.duplicated([SERIES_ID, CUTOFF, DATE]).any():
        repeated = keyed[keyed.duplicated([SERIES_ID, CUTOFF, DATE])].sort_values([CUTOFF, SERIES_ID, DATE])
        shown = _examples(repeated)
        problems.append(_("{n:,} row(s) repeat a series, cutoff and date already given ({rows}: {where}): keep one "
                          "forecast per series, cutoff and date.").format(n=len(repeated), rows=_rows(shown.index),
                                                                          where=_where(shown)))
    run_cutoffs = runs.run_cutoffs(warehouse, run_id)
    unknown = sorted(set(keyed[CUTOFF]) - set(run_cutoffs))
    if unknown:
        counts = keyed[CUTOFF].value_counts()
        listed = ", ".join(ngettext("{cutoff} ({n:,} row)", "{cutoff} ({n:,} rows)", int(counts[c])).format(
            cutoff=f"{c:%Y-%m-%d}", n=int(counts[c])) for c in unknown[:EXAMPLES])
        problems.append(_("{n} cutoff(s) of the file are not cutoffs of the run: {listed}. The run's cutoffs are "
                          "{cutoffs}: a cutoff is the last date of history a forecast was made from, not the first "
                          "date forecast.").format(
                              n=len(unknown), listed=listed + (", …" if len(unknown) > EXAMPLES else ""),
                              cutoffs=", ".join(f"{c:%Y-%m-%d}" for c in run_cutoffs)))
    grid = expected_grid(warehouse, run_id)
    _compare(keyed.drop_duplicates([SERIES_ID, CUTOFF, DATE]), grid, run_cutoffs, problems)
    quantiles = _quantile_rows(found[usable], columns.quantiles, problems)
    if problems:
        # Said first: one cause that explains the rows the file lacks or has too many of.
        hints = _label_hints(keyed, grid, run_cutoffs, run.freq)
        zeros = _zeros_hint(keyed[SERIES_ID], grid[SERIES_ID])
        raise ExternalForecastError([*hints, *([zeros] if zeros else []), *problems])

    history = run_data(warehouse, run, series_data)
    scored = grid.merge(found[[SERIES_ID, CUTOFF, DATE, FORECAST]], on=[SERIES_ID, CUTOFF, DATE], how="left")
    scored = scored.merge(fold_scales(history, run, run_cutoffs), on=[SERIES_ID, CUTOFF], how="left")
    scored[MODEL] = alias
    quantiles = quantiles.assign(model=alias)[[MODEL, SERIES_ID, DATE, CUTOFF, "level", "value"]]
    # Stated quantiles (only at the levels the backtest scores) replace the conformal ones at those levels.
    metrics = score_forecasts(scored, history, stated=quantiles if len(quantiles) else None)
    forecasts = scored[[SERIES_ID, DATE, CUTOFF, STEP, ACTUAL, MODEL, FORECAST]].copy()
    if columns.quantiles:
        notes.append(stated_note(tuple(columns.quantiles), tuple(columns.quantiles.values())))
    return PreparedExternal(run_id=run_id, model=alias, name=name, effort_weeks=weeks, description=description,
                            source=file_name, forecasts=forecasts, quantiles=quantiles,
                            metrics=metrics, levels=tuple(columns.quantiles), notes=tuple(notes))


def _run_keys(warehouse: Warehouse, run: runs.RunInfo) -> tuple[str, ...]:
    """The key columns of the run's dataset (none for a run made from a file or a deleted dataset)."""
    if run.dataset_id is None:
        return ()
    try:
        return tuple(warehouse.get_dataset(run.dataset_id).spec.keys)
    except DatasetNotFoundError:
        return ()


# ---------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------
FORECAST_COLUMNS = ("run_id", SERIES_ID, DATE, CUTOFF, STEP, ACTUAL, MODEL, FORECAST)
METRIC_COLUMNS = ("run_id", "level", "group", MODEL, "metric", "value")
QUANTILE_COLUMNS = ("run_id", MODEL, SERIES_ID, DATE, CUTOFF, "level", "value")


def save_external(warehouse: Warehouse, prepared: PreparedExternal) -> str:
    """Store prepared forecasts with their run — forecasts, metrics, stated quantiles and
    the row of ``run_external_models`` — in one transaction; returns the alias. Raises
    ``ExternalForecastError`` when the name was taken meanwhile, ``WarehouseError`` when
    the warehouse refused; either way nothing is stored."""
    return save_externals(warehouse, [prepared])[0]


def save_externals(warehouse: Warehouse, prepared: Sequence[PreparedExternal]) -> list[str]:
    """Store several prepared forecasts in ONE transaction: all of them or none (the
    command line's repeated ``--external``). Returns their aliases. Names are compared
    ignoring case, with the run's stored models and with each other, inside the
    transaction: raises ``ExternalForecastError`` (every clash) when a name is taken or
    given twice, ``WarehouseError`` when the warehouse refused; either way nothing is
    stored."""
    clashes, seen = [], {}
    for one in prepared:
        key = (one.run_id, one.name.casefold())
        if key in seen:
            clashes.append(_("The forecasts '{first}' and '{second}' would have the same name (names are "
                             "compared ignoring case): give each its own name.").format(first=seen[key], second=one.name))
        seen.setdefault(key, one.name)
    if clashes:
        raise ExternalForecastError(clashes)
    try:
        with warehouse.transaction() as cur:
            for one in prepared:
                stored = cur.execute("SELECT DISTINCT model FROM run_forecasts WHERE run_id = ?",
                                     [one.run_id]).fetchall()
                taken = _taken([m for (m,) in stored])
                if one.name.casefold() in taken:
                    clashes.append(_taken_message(one.name, taken[one.name.casefold()]))
            if clashes:
                raise ExternalForecastError(clashes)
            for one in prepared:
                _insert(cur, one)
    except duckdb.Error as error:
        raise WarehouseError(M_("The forecasts could not be stored, and nothing of them was: {error}",
                                error=str(error).splitlines()[0])) from error
    return [one.model for one in prepared]


def _insert(cur: duckdb.DuckDBPyConnection, prepared: PreparedExternal) -> None:
    """One model's rows, inside the caller's transaction; columns named, never by position."""
    run_id = prepared.run_id
    cur.execute(
        "INSERT INTO run_external_models (run_id, model, name, effort_weeks, description, source, n_rows, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, now())",
        [run_id, prepared.model, prepared.name, prepared.effort_weeks, prepared.description, prepared.source,
         len(prepared.forecasts)])
    for table, frame, columns in (("run_forecasts", prepared.forecasts, FORECAST_COLUMNS),
                                  ("run_metrics", prepared.metrics, METRIC_COLUMNS),
                                  ("run_quantiles", prepared.quantiles, QUANTILE_COLUMNS)):
        if frame.empty:
            continue
        view = f"incoming_external_{table}"
        cur.register(view, frame.assign(run_id=run_id)[list(columns)])
        listed = ", ".join(f'"{c}"' for c in columns)
        cur.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {view}")
        cur.unregister(view)


def add_external(warehouse: Warehouse, run_id: str, name: str, data: bytes, file_name: str,
                 effort_weeks: float | None = None, description: str = "",
                 series_data: BacktestData | None = None) -> PreparedExternal:
    """``prepare_external`` then ``save_external``: validated, scored and stored, or not
    stored at all. Returns what was stored."""
    prepared = prepare_external(warehouse, run_id, name, data, file_name, effort_weeks, description, series_data)
    save_external(warehouse, prepared)
    return prepared


def remove_external(warehouse: Warehouse, run_id: str, model: str) -> None:
    """Remove forecasts made elsewhere from a run (``model``: their alias ``ext:NAME`` or
    their name, in any case), with their metrics and quantiles, in one transaction.
    Raises ``ExternalForecastError`` for a built-in model or a name the run does not have."""
    remove_externals(warehouse, run_id, [model])


def remove_externals(warehouse: Warehouse, run_id: str, models: Sequence[str]) -> list[str]:
    """Remove several forecasts made elsewhere in ONE transaction: every name is checked
    first, and none is removed unless all can be. Returns the aliases removed. Raises
    ``ExternalForecastError`` naming every built-in model or unknown name."""
    if not models:
        return []
    runs.get_run(warehouse, run_id)
    stored = _taken([m.model for m in external_models(warehouse, run_id)])
    problems, aliases = [], []
    for model in models:
        if str(model) in MODELS:
            problems.append(_("{model} is a built-in model of the run, not forecasts made elsewhere: it cannot be "
                              "removed from the run (delete the run instead).").format(model=fmt.model_name(model)))
            continue
        name = fmt.model_name(model) if is_external(model) else str(model).strip()
        alias = stored.get(name.casefold())
        if alias is None:
            names = ", ".join(fmt.model_name(m) for m in sorted(stored.values())) or _("none")
            problems.append(_("The run has no forecasts made elsewhere named '{name}' (it has: {names}).").format(
                name=name, names=names))
        elif alias not in aliases:
            aliases.append(alias)
    if problems:
        raise ExternalForecastError(problems)
    with warehouse.transaction() as cur:
        for alias in aliases:
            for table in ("run_forecasts", "run_metrics", "run_quantiles", "run_external_models"):
                cur.execute(f"DELETE FROM {table} WHERE run_id = ? AND model = ?", [run_id, alias])
    return aliases


def external_models(warehouse: Warehouse, run_id: str) -> list[ExternalModel]:
    """The forecasts made elsewhere stored with a run, oldest first."""
    rows = warehouse.query("SELECT * FROM run_external_models WHERE run_id = ? ORDER BY created_at, rowid", [run_id])
    return [ExternalModel(run_id=r.run_id, model=r.model, name=r.name,
                          effort_weeks=None if pd.isna(r.effort_weeks) else float(r.effort_weeks),
                          description=r.description, source=r.source, n_rows=int(r.n_rows),
                          created_at=pd.Timestamp(r.created_at).to_pydatetime())
            for r in rows.itertuples(index=False)]


def stated_levels(warehouse: Warehouse, run_id: str) -> dict[str, tuple[float, ...]]:
    """The quantile levels each model of the run states itself, by alias (ascending);
    models that state none are absent."""
    rows = warehouse.query("SELECT DISTINCT model, level FROM run_quantiles WHERE run_id = ? ORDER BY model, level",
                           [run_id])
    return {str(m): tuple(float(q) for q in part["level"]) for m, part in rows.groupby("model", sort=True)}


def spread_note(warehouse: Warehouse, run_id: str) -> str | None:
    """A sentence for the run's calibration view: which models made elsewhere were scored
    on the quantiles they state, at which levels (their other levels, and every other
    model's, are cross-conformal: ``core.backtest.quantiles``). None when no model of the
    run states quantiles."""
    stated = stated_levels(warehouse, run_id)
    if not stated:
        return None
    parts = [_("{model} at {levels}").format(model=fmt.model_name(m), levels=", ".join(f"{q:g}" for q in levels))
             for m, levels in stated.items()]
    return _("Quantiles made elsewhere are scored as their makers state them: {models}. Their other levels, and every "
             "other model's, are cross-conformal.").format(models="; ".join(parts))


def effort_weeks(warehouse: Warehouse, run_id: str) -> dict[str, float | None]:
    """The stated effort (person-weeks) of each external model of the run, by alias."""
    return {m.model: m.effort_weeks for m in external_models(warehouse, run_id)}


def run_quantiles(warehouse: Warehouse, run_id: str, model: str | None = None) -> pd.DataFrame:
    """Stated quantiles of a run: model, unique_id, ds, cutoff, level, value."""
    if model is None:
        return warehouse.query("SELECT model, unique_id, ds, cutoff, level, value FROM run_quantiles WHERE run_id = ? "
                               "ORDER BY model, level, cutoff, unique_id, ds", [run_id])
    return warehouse.query("SELECT model, unique_id, ds, cutoff, level, value FROM run_quantiles WHERE run_id = ? "
                           "AND model = ? ORDER BY level, cutoff, unique_id, ds", [run_id, model])
