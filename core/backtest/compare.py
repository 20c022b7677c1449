"""Reading runs side by side: improvement over baselines, what differs between configs
and scopes, errors recomputed on what the runs share, and whether a model's errors are
significantly lower than its baseline's."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core import fmt, periods
from core.backtest import metrics
from core.backtest.metrics import ACTUAL, CUTOFF, FORECAST, MODEL, STEP
from core.columns import DATE, SERIES_ID, Freq
from core.i18n import N_, gettext

BASELINES = ("snaive", "practice")


@dataclass(frozen=True)
class DieboldMariano:
    """One-sided Diebold-Mariano test (Harvey, Leybourne & Newbold small-sample form)."""

    model: str
    baseline: str
    loss: str
    mean_difference: float  # mean of model loss minus baseline loss, per period (negative: model better)
    statistic: float
    p_value: float  # H1: the model's expected loss is lower than the baseline's
    periods: int

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def diebold_mariano(forecasts: pd.DataFrame, model: str, baseline: str, horizon: int,
                    loss: str = "absolute") -> DieboldMariano:
    """Compare two models' errors on the same series and dates.

    The loss differential is averaged over series for each (cutoff, date), giving one
    time series of ``folds x horizon`` periods; its long-run variance uses Newey-West
    weights up to lag ``horizon - 1``, as the multi-step errors overlap.
    """
    # Student's t CDF from scipy.special (scipy.stats.t.cdf calls it; the same values): importing
    # scipy.stats takes most of a second, which the command line's reports would pay.
    from scipy.special import stdtr
    pair = forecasts[forecasts[MODEL].isin([model, baseline])]
    wide = pair.pivot_table(index=[CUTOFF, DATE, SERIES_ID], columns=MODEL, values=[FORECAST, ACTUAL],
                            aggfunc="first")
    if model not in wide[FORECAST] or baseline not in wide[FORECAST]:
        raise ValueError(f"The run has no forecasts of '{model}' and '{baseline}' to compare.")
    actual = wide[ACTUAL][model]
    errors = {m: wide[FORECAST][m] - actual for m in (model, baseline)}
    if loss == "absolute":
        diff = errors[model].abs() - errors[baseline].abs()
    else:
        diff = errors[model] ** 2 - errors[baseline] ** 2
    d = diff.groupby(level=[0, 1]).mean().to_numpy()
    n = len(d)
    mean = float(d.mean())
    centred = d - mean
    lags = max(0, min(horizon - 1, n - 1))
    variance = centred @ centred / n
    for k in range(1, lags + 1):
        variance += 2 * (1 - k / (lags + 1)) * (centred[k:] @ centred[:-k]) / n
    if variance <= 0 or n < 3:
        return DieboldMariano(model, baseline, loss, mean, float("nan"), float("nan"), n)
    statistic = mean / np.sqrt(variance / n)
    correction = np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n) if n > 2 * horizon else 1.0
    statistic *= correction
    p_value = float(stdtr(n - 1, statistic))
    return DieboldMariano(model, baseline, loss, mean, float(statistic), p_value, n)


def diebold_mariano_note(freq: Freq) -> str:
    """What the test on the Experiments page does, in the data's periods: "One-sided test
    on the average absolute error across series in each month of the run's folds …"."""
    return gettext("One-sided test on the average absolute error across series in each {period} of the run's folds "
                   "(Newey-West variance, Harvey-Leybourne-Newbold correction); p < 0.05 says the model's errors are "
                   "lower than the baseline's beyond chance. The difference is the model's mean absolute error minus "
                   "the baseline's, in the data's units per series and {period}: negative means the model's errors "
                   "are smaller.").format(period=periods.period_noun(freq))


def improvement(leaderboard: pd.DataFrame, baseline: str, metric: str = "wape") -> pd.Series:
    """Relative reduction of ``metric`` against ``baseline`` per model (0.2 = 20 % lower);
    missing where the baseline's is missing or zero (no reduction of nothing)."""
    values = leaderboard.set_index("model")[metric]
    if baseline not in values:
        return pd.Series(dtype=float)
    reference = values[baseline]
    return 1 - values / (reference if reference > 0 else np.nan)


# The settings of a run's config (``BacktestConfig.to_dict`` plus scope and dataset) as
# people name them; a setting not listed keeps its dotted path with "scope." as "Scope: ".
# Catalog messages: ``_setting_label`` shows them in the current language.
SETTING_LABELS = {
    "dataset": N_("Dataset"), "split.horizon": N_("Horizon (periods)"), "split.folds": N_("Folds"),
    "split.step": N_("Step between cutoffs (periods)"), "split.gap": N_("Gap after cutoff (periods)"),
    "split.window": N_("Training window"), "split.train_periods": N_("Sliding window length (periods)"),
    "models": N_("Models"), "seed": N_("Seed"),
}
# The training windows of ``SplitConfig.window`` as people read them (the values are keys).
WINDOW_NAMES = {"expanding": N_("expanding"), "sliding": N_("sliding")}


def window_name(window: str) -> str:
    """``expanding`` / ``sliding`` in the current language."""
    return gettext(WINDOW_NAMES[window]) if window in WINDOW_NAMES else str(window)


def config_differences(configs: Mapping[str, Mapping]) -> pd.DataFrame:
    """Settings side by side, only those that differ between the runs.

    ``configs``: run label → ``BacktestConfig.to_dict()`` with optional ``scope`` (column →
    values) and ``dataset`` (name). Returns one row per differing setting, indexed by its
    name for people (``SETTING_LABELS``: "Horizon (periods)", "Scope: store_id"), one text
    column per run; models are named ("Seasonal naive, Moving average (window=7)"), a step
    left to the horizon reads "= horizon", a setting a run does not have is blank."""
    flat = {name: _flatten(config) for name, config in configs.items()}
    keys = sorted(set().union(*[f.keys() for f in flat.values()]), key=_setting_order)
    table = pd.DataFrame({name: [_setting_text(k, values.get(k)) for k in keys] for name, values in flat.items()},
                         index=[_setting_label(k) for k in keys])
    differs = table.nunique(axis=1) > 1
    return table[differs]


def _setting_order(key: str) -> tuple[int, str]:
    order = list(SETTING_LABELS)
    return (order.index(key), key) if key in order else (len(order), key)


def _setting_label(key: str) -> str:
    if key.startswith("scope."):
        return gettext("Scope: {column}").format(column=key.removeprefix("scope."))
    return gettext(SETTING_LABELS[key]) if key in SETTING_LABELS else key


def _setting_text(key: str, value: object) -> str:
    if key == "split.step" and value is None:
        return gettext("= horizon")
    if key == "split.window" and isinstance(value, str):
        return window_name(value)
    if value is None or (not isinstance(value, (list, tuple)) and fmt.missing(value)):
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _flatten(config: Mapping, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _flatten(value, f"{name}.")
        elif key == "models" and isinstance(value, Sequence):
            out[name] = ", ".join(fmt.model_name(m["alias"]) + (
                " (" + ", ".join(f"{k}={v}" for k, v in m["params"].items()) + ")" if m.get("params") else "")
                for m in value)
        else:
            out[name] = value
    return out


# ---------------------------------------------------------------------------------
# Runs compared on what they share
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunScope:
    """What a stored run covered: enough to say whether two runs can be compared."""

    dataset: str  # the dataset's name, for people
    dataset_key: str  # what identifies the data: the dataset id, or the run's data fingerprint
    freq: str  # "daily", "weekly", "monthly"
    horizon: int  # periods
    cutoffs: tuple[pd.Timestamp, ...]
    n_series: int  # series in the run's scope
    segments: tuple[str, ...] = ()  # segment columns the run has metrics for
    fingerprint: str = ""  # the run's data fingerprint: its series, dates and targets (``BacktestData.fingerprint``)
    scope: tuple[tuple[str, tuple[str, ...]], ...] = ()  # the run's filter, column → values, sorted
    data_end: date | None = None  # the last date of the data the run backtested (``RunInfo.data_end``)


def scope_key(scope: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A run's scope (``RunInfo.scope``: column → values) as a comparable ``RunScope.scope``."""
    return tuple(sorted((str(k), tuple(sorted(str(v) for v in values))) for k, values in scope.items()))


def replaced_data(scopes: Mapping[str, RunScope]) -> list[list[str]]:
    """Runs that backtested one dataset id with the same scope but stored different data
    fingerprints: the dataset was replaced (deleted and imported again under the same id,
    or its rows changed) between them, so their errors are not on the same actuals.
    Returns the groups of run names, each group one dataset and scope with more than
    one fingerprint; empty when every such group agrees. Runs of different scopes differ
    in fingerprint anyway and are checked on their shared actuals (``changed_actuals``).
    So do runs whose data ends on different dates (``grown_data``): rows were appended
    between them, which is not a replacement."""
    groups: dict[tuple, dict[str, str]] = {}
    for name, v in scopes.items():
        if v.fingerprint:
            groups.setdefault((v.dataset_key, v.scope, v.data_end), {})[name] = v.fingerprint
    return [list(g) for g in groups.values() if len(set(g.values())) > 1]


def grown_data(scopes: Mapping[str, RunScope]) -> list[list[str]]:
    """Runs of one dataset id and scope whose data ends on different dates: the dataset grew
    (rows were appended) between them. Their shared dates are compared on their actuals
    (``changed_actuals``). Returns the groups of run names; runs stored before the end date
    was kept (``data_end`` None) are left out."""
    groups: dict[tuple, dict[str, date]] = {}
    for name, v in scopes.items():
        if v.data_end is not None:
            groups.setdefault((v.dataset_key, v.scope), {})[name] = v.data_end
    return [list(g) for g in groups.values() if len(set(g.values())) > 1]


def same_data(scopes: Mapping[str, RunScope]) -> bool:
    """Whether the runs' errors can be compared: one dataset, not replaced between them
    (``replaced_data``)."""
    return len({v.dataset_key for v in scopes.values()}) == 1 and not replaced_data(scopes)


def scope_differences(scopes: Mapping[str, RunScope]) -> list[str]:
    """What differs between the runs' scopes, one phrase each, in the order dataset, data
    replaced under the same dataset (``replaced_data``), frequency, horizon, cutoffs,
    series count, segments — e.g. "horizon (run A: 7, run B: 14 periods)". Empty when
    they cover the same data the same way."""
    names = list(scopes)
    values = list(scopes.values())

    def each(text: Callable[[RunScope], str]) -> str:
        return gettext(", ").join(f"{name}: {text(v)}" for name, v in zip(names, values, strict=True))

    out: list[str] = []
    none = gettext("none")
    if len({v.dataset_key for v in values}) > 1:
        out.append(gettext("dataset ({runs})").format(runs=each(lambda v: v.dataset)))
    for group in replaced_data(scopes):
        out.append(gettext("data: {dataset} was replaced between the runs ({runs})").format(
            dataset=values[names.index(group[0])].dataset,
            runs=", ".join(gettext("{run}: data {fingerprint}").format(run=name, fingerprint=scopes[name].fingerprint)
                           for name in group)))
    for group in grown_data(scopes):
        out.append(gettext("data: {dataset} grew between the runs ({runs})").format(
            dataset=values[names.index(group[0])].dataset,
            runs=", ".join(gettext("{run}: up to {date}").format(run=name, date=fmt.date(scopes[name].data_end))
                           for name in group)))
    if len({v.freq for v in values}) > 1:
        out.append(gettext("frequency ({runs})").format(runs=each(lambda v: v.freq)))
    if len({v.horizon for v in values}) > 1:
        out.append(gettext("horizon ({runs} periods)").format(runs=each(lambda v: str(v.horizon))))
    if len({v.cutoffs for v in values}) > 1:
        out.append(gettext("cutoffs ({runs})").format(
            runs=each(lambda v: ", ".join(fmt.date(c) for c in v.cutoffs) or none)))
    if len({v.n_series for v in values}) > 1:
        out.append(gettext("series count ({runs})").format(runs=each(lambda v: f"{v.n_series:,}")))
    if len({frozenset(v.segments) for v in values}) > 1:
        out.append(gettext("segments ({runs})").format(runs=each(lambda v: ", ".join(v.segments) or none)))
    return out


def shared_segments(scopes: Mapping[str, RunScope]) -> list[str]:
    """The segment columns every run has metrics for, in the first run's order; none when
    the runs are on different data."""
    values = list(scopes.values())
    if not values or not same_data(scopes):
        return []
    common = set.intersection(*[set(v.segments) for v in values])
    return [s for s in values[0].segments if s in common]


@dataclass(frozen=True)
class Shared:
    """The forecasts of each run restricted to what all of them scored."""

    forecasts: dict[str, pd.DataFrame]  # run → its rows on the shared (series, cutoff, step, date)
    n_series: int
    cutoffs: tuple[pd.Timestamp, ...]
    steps: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return self.n_series == 0


def shared_forecasts(forecasts: Mapping[str, pd.DataFrame]) -> Shared:
    """Each run's forecasts (``runs.run_forecasts``: unique_id, ds, cutoff, step, actual,
    model, forecast) kept only on the (series, cutoff, step, date) that every run scored,
    so that errors are summed over the same actuals. Call it only for runs on the same
    data (``scope_differences`` names a different dataset): two datasets may share ids."""
    key = [SERIES_ID, CUTOFF, STEP, DATE]
    common: pd.DataFrame | None = None
    for frame in forecasts.values():
        cells = frame[key].drop_duplicates()
        common = cells if common is None else common.merge(cells, on=key)
    if common is None or common.empty:
        return Shared({name: frame.iloc[0:0] for name, frame in forecasts.items()}, 0, (), ())
    kept = {name: frame.merge(common, on=key) for name, frame in forecasts.items()}
    return Shared(kept, int(common[SERIES_ID].nunique()),
                  tuple(pd.Timestamp(c) for c in sorted(common[CUTOFF].unique())),
                  tuple(int(s) for s in sorted(common[STEP].unique())))


def changed_actuals(shared: Shared) -> int:
    """How many shared (series, date) have different actuals in different runs — the
    data changed between them (a dataset replaced under the same id, with another
    scope): 0 when every run scored the same actuals. Differences below 1e-9 of the
    value are rounding, not a change."""
    actuals = [frame[[SERIES_ID, DATE, ACTUAL]].drop_duplicates([SERIES_ID, DATE])
               for frame in shared.forecasts.values() if len(frame)]
    if len(actuals) < 2:
        return 0
    both = actuals[0]
    for i, other in enumerate(actuals[1:], start=1):
        both = both.merge(other.rename(columns={ACTUAL: f"{ACTUAL}_{i}"}), on=[SERIES_ID, DATE])
    first = both[ACTUAL].to_numpy(dtype=float)
    changed = np.zeros(len(both), dtype=bool)
    for i in range(1, len(actuals)):
        changed |= ~np.isclose(both[f"{ACTUAL}_{i}"].to_numpy(dtype=float), first, rtol=1e-9, atol=1e-9,
                               equal_nan=True)
    return int(changed.sum())


def shared_wape(shared: Shared) -> pd.DataFrame:
    """WAPE per model (rows, aliases) and run (columns) on the shared forecasts: total
    |forecast − actual| ÷ total actual (``metrics.wape``), as a fraction; missing where
    a run has no such model or nothing sold."""
    columns = {}
    for name, frame in shared.forecasts.items():
        columns[name] = metrics.wape(frame, [MODEL]) if len(frame) else pd.Series(dtype=float)
    return pd.DataFrame(columns)


def shared_segment_wins(shared: Shared, first: str, other: str, model: str,
                        segment_of: Mapping[str, str]) -> pd.DataFrame:
    """Per segment value: WAPE of ``model`` in run ``first`` (a) and ``other`` (b) on the
    shared forecasts, their difference and the winner ("A", "B", "tie"; lower is better).
    ``segment_of``: series id → its segment value. Segments sorted by value."""
    values = {}
    for side, name in (("a", first), ("b", other)):
        frame = shared.forecasts[name]
        frame = frame[frame[MODEL] == model]
        values[side] = metrics.wape(frame.assign(group=frame[SERIES_ID].map(segment_of)).dropna(subset=["group"]),
                                    ["group"]) if len(frame) else pd.Series(dtype=float)
    table = pd.DataFrame(values).dropna(how="all")
    table.index.name = "group"
    table["delta"] = table["b"] - table["a"]
    table["winner"] = np.where(table["delta"] < 0, "B", np.where(table["delta"] > 0, "A",
                                                                  np.where(table["delta"].isna(), "", "tie")))
    return table.reset_index()


def segment_wins(metrics_a: pd.DataFrame, metrics_b: pd.DataFrame, model_a: str, model_b: str,
                 level: str, metric: str = "wape") -> pd.DataFrame:
    """Per segment: the two values of ``metric`` and which side wins (lower is better)."""
    a = metrics_a[(metrics_a["level"] == level) & (metrics_a["model"] == model_a) & (metrics_a["metric"] == metric)]
    b = metrics_b[(metrics_b["level"] == level) & (metrics_b["model"] == model_b) & (metrics_b["metric"] == metric)]
    table = a.set_index("group")["value"].rename("a").to_frame().join(b.set_index("group")["value"].rename("b"),
                                                                       how="inner")
    table["delta"] = table["b"] - table["a"]
    table["winner"] = np.where(table["delta"] < 0, "B", np.where(table["delta"] > 0, "A",
                                                                  np.where(table["delta"].isna(), "", "tie")))
    return table.reset_index()
