"""Reading runs side by side: improvement over baselines, what differs between configs,
and whether a model's errors are significantly lower than its baseline's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.backtest.metrics import ACTUAL, CUTOFF, FORECAST, MODEL
from core.columns import DATE, SERIES_ID

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
    p_value = float(stats.t.cdf(statistic, df=n - 1))
    return DieboldMariano(model, baseline, loss, mean, float(statistic), p_value, n)


def improvement(leaderboard: pd.DataFrame, baseline: str, metric: str = "wape") -> pd.Series:
    """Relative reduction of ``metric`` against ``baseline`` per model (0.2 = 20 % lower);
    missing where the baseline's is missing or zero (no reduction of nothing)."""
    values = leaderboard.set_index("model")[metric]
    if baseline not in values:
        return pd.Series(dtype=float)
    reference = values[baseline]
    return 1 - values / (reference if reference > 0 else np.nan)


def config_differences(configs: Mapping[str, Mapping]) -> pd.DataFrame:
    """Settings side by side, only those that differ between the runs."""
    flat = {name: _flatten(config) for name, config in configs.items()}
    keys = sorted(set().union(*[f.keys() for f in flat.values()]))
    table = pd.DataFrame({name: [str(values.get(k, "—")) for k in keys] for name, values in flat.items()}, index=keys)
    differs = table.nunique(axis=1) > 1
    return table[differs]


def _flatten(config: Mapping, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _flatten(value, f"{name}.")
        elif key == "models" and isinstance(value, Sequence):
            out[name] = ", ".join(m["alias"] + (f"({m['params']})" if m.get("params") else "") for m in value)
        else:
            out[name] = value
    return out


def segment_wins(metrics_a: pd.DataFrame, metrics_b: pd.DataFrame, model_a: str, model_b: str,
                 level: str, metric: str = "wape") -> pd.DataFrame:
    """Per segment: the two values of ``metric`` and which side wins (lower is better)."""
    a = metrics_a[(metrics_a["level"] == level) & (metrics_a["model"] == model_a) & (metrics_a["metric"] == metric)]
    b = metrics_b[(metrics_b["level"] == level) & (metrics_b["model"] == model_b) & (metrics_b["metric"] == metric)]
    table = a.set_index("group")["value"].rename("a").to_frame().join(b.set_index("group")["value"].rename("b"),
                                                                       how="inner")
    table["delta"] = table["b"] - table["a"]
    table["winner"] = np.where(table["delta"] < 0, "B", np.where(table["delta"] > 0, "A", "tie"))
    return table.reset_index()
