"""Render one stored backtest run: everything is read back from the warehouse, so a
run reopened later shows exactly what it showed when it finished."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core import fmt, periods
from core.backtest import accounting
from core.backtest import charts as backtest_charts
from core.backtest import external, quantiles
from core.backtest import store as runs
from core.backtest.compare import BASELINES, improvement, window_name
from core.backtest.engine import PAIR_SEP
from core.backtest.metrics import PERCENT_METRICS
from core.columns import DATE
from core.data import explore
from core.data.labels import series_labels
from core.errors import MitoshiError
from core.forecast.base import rung_name
from core.forecast.registry import MODELS, is_external, model_info
from core.i18n import N_, _, gettext, ngettext
from core.text import md
from ui.state import csv_download, get_warehouse, show_error, table

METRIC_ORDER = ("wape", "mase", "rmsse", "smape", "mae", "rmse", "bias", "pinball", "coverage_80", "coverage_95")
# Catalog messages: shown as ``gettext(METRIC_HELP[m])``.
METRIC_HELP = {
    "wape": N_("Weighted absolute percentage error: total |forecast − actual| ÷ total actual sales. Lower is "
               "better."),
    "mase": N_("Mean absolute scaled error: mean |error| ÷ the in-sample seasonal naive's. Below 1 beats it."),
    "rmsse": N_("Root mean squared scaled error: like MASE on squared errors (punishes big misses). Below 1 beats "
                "naive."),
    "smape": N_("Symmetric mean absolute percentage error, per series and period (0–200 %). Lower is better."),
    "mae": N_("Mean absolute error, in units per series and period."),
    "rmse": N_("Root mean squared error, in units: big misses weigh more."),
    "bias": N_("Mean of forecast − actual, in units: 0 is unbiased, negative forecasts too low."),
    "pinball": N_("Pinball loss: the quantile forecasts' error, scaled like MASE: lower is better. It averages the "
                  "2.5, 10, 50, 90 and 97.5 % quantiles, so it scores the spread as well as the centre."),
    "coverage_80": N_("Share of actual values inside the 80 % interval (10–90 % quantiles): 80 % when the interval "
                      "is right, less is overconfident, more too cautious."),
    "coverage_95": N_("Share of actual values inside the 95 % interval (2.5–97.5 % quantiles): 95 % when the "
                      "interval is right."),
}


def metric_help(metric: str) -> str:
    """A metric's explanation in the current language."""
    return gettext(METRIC_HELP[metric])


# The ETS settings' options as people read them (catalog messages): ``ets_option``.
ETS_TREND = {"auto": N_("automatic (AICc)"), "add": N_("additive"), None: N_("none")}
ETS_SEASONAL = {"auto": N_("automatic (AICc)"), "add": N_("additive"), "mul": N_("multiplicative"), None: N_("none")}
ETS_AUTO_HELP = N_("Automatic: each series gets the form of least AICc among trend none / additive / damped and "
                   "season none / additive / multiplicative (Hyndman et al. 2002, R's forecast::ets).")


def ets_option(option: str | None) -> str:
    """An ETS trend or season option in the current language (``"auto"`` → automatic (AICc))."""
    return gettext(ETS_SEASONAL[option])


def gain_column(baseline: str) -> str:
    """The leaderboard's column of gains over ``baseline`` as people read it: "vs Seasonal naive"."""
    return gettext("vs {model}").format(model=fmt.model_name(baseline))


def changed_params(alias: str, chosen: dict) -> dict:
    """The settings in ``chosen`` that differ from the model class's own defaults (its
    dataclass fields), so a run left on the page's defaults stores no params and equals
    ``python -m core.backtest``'s ladder. Unknown names raise ``MitoshiError``."""
    defaults = {f.name: f.default for f in dataclasses.fields(MODELS[alias])}
    unknown = sorted(set(chosen) - set(defaults))
    if unknown:
        raise MitoshiError(_("{model}: unknown setting(s) {unknown}; known: {known}.").format(
            model=alias, unknown=unknown, known=", ".join(defaults)))
    return {k: v for k, v in chosen.items() if v != defaults[k]}


# A fraction's step of 0.001 fixes a "percent" column at one decimal (40.9%, 6.0%): without a
# step Streamlit shows up to two, trimmed ("40.9%" next to "38.73%", "6%" next to "6.38%").
# Streamlit truncates to the step, so the values are rounded to it first (``rounded_percent``).
PERCENT_STEP = 0.001


def rounded_percent(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """``frame`` with the fractions in ``columns`` rounded to ``PERCENT_STEP`` (0.06385 ->
    0.064, shown "6.4%"): what a "percent" column with that step shows, rounded, not cut."""
    present = [c for c in columns if c in frame.columns]
    return frame.assign(**{c: frame[c].astype(float).round(3) for c in present})


def run_revision(run_id: str) -> str:
    """Changes when a model made elsewhere joins or leaves the run, on any page, tab or the
    command line (``core.backtest.store.run_revision``): part of the key of every cached read
    of the run's models below."""
    return runs.run_revision(get_warehouse(), run_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _metrics_at(run_id: str, revision: str) -> pd.DataFrame:
    return runs.run_view(get_warehouse(), run_id).metrics


def _metrics(run_id: str) -> pd.DataFrame:
    """The run's metrics as they are now (cached per revision of its models), every level
    but per series (``_series_metrics``)."""
    return _metrics_at(run_id, run_revision(run_id))


@st.cache_data(show_spinner=False, max_entries=64)
def _series_metrics_at(run_id: str, metrics: tuple[str, ...], revision: str) -> pd.DataFrame:
    return runs.series_metrics(get_warehouse(), run_id, metrics)


def _series_metrics(run_id: str, *metrics: str) -> pd.DataFrame:
    """The run's per-series values of ``metrics`` (a national chain's run holds millions of
    per-series values: they are read one metric at a time)."""
    return _series_metrics_at(run_id, tuple(metrics), run_revision(run_id))


@st.cache_data(show_spinner=False, max_entries=16)
def _run_forecasts_at(run_id: str, revision: str) -> pd.DataFrame:
    return runs.run_forecasts(get_warehouse(), run_id)


def run_forecasts(run_id: str) -> pd.DataFrame:
    """Every forecast of a run as it is now (the Experiments page compares runs on them)."""
    return _run_forecasts_at(run_id, run_revision(run_id))


@st.cache_data(show_spinner=False, max_entries=32)
def _timings(run_id: str) -> pd.DataFrame:
    return runs.run_timings(get_warehouse(), run_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _cutoffs(run_id: str) -> list[pd.Timestamp]:
    return runs.run_cutoffs(get_warehouse(), run_id)


@st.cache_data(show_spinner=False, max_entries=32)
def left_out_and_fallbacks(run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run's series left out of folds, and its models' fallbacks."""
    warehouse = get_warehouse()
    return runs.run_excluded(warehouse, run_id), runs.run_fallbacks(warehouse, run_id)


@st.cache_data(show_spinner=False, max_entries=32)
def dataset_series_labels(dataset_id: str | None) -> dict[str, str]:
    """Series id → the label people read (``core.data.labels.series_labels``); empty when the
    run's dataset is gone (callers fall back to the id)."""
    if not dataset_id:
        return {}
    warehouse = get_warehouse()
    try:
        dataset = warehouse.get_dataset(dataset_id)
    except MitoshiError:
        return {}
    return series_labels(explore.series_attributes(warehouse, dataset), explore.series_names(warehouse, dataset))


def named_fallbacks(fallbacks: pd.DataFrame) -> pd.DataFrame:
    """The fallbacks with each model's name for people (``Seasonal naive``), for sentences
    and tables; logic keeps the aliases."""
    return fallbacks.assign(model=fallbacks["model"].map(fmt.model_name)) if not fallbacks.empty else fallbacks


def fallback_text(counts: dict[str, int]) -> str:
    """``{"arima": 12}`` → ``ARIMA: 12 series``; empty when no model fell back."""
    return "; ".join(_("{model}: {n:,} series").format(model=fmt.model_name(model), n=count)
                     for model, count in counts.items())


@st.cache_data(show_spinner=False, max_entries=128)
def _series_forecasts_at(run_id: str, series_id: str, revision: str) -> pd.DataFrame:
    return runs.run_forecasts(get_warehouse(), run_id, series_id)


def _series_forecasts(run_id: str, series_id: str) -> pd.DataFrame:
    return _series_forecasts_at(run_id, series_id, run_revision(run_id))



@st.cache_data(show_spinner=False, max_entries=128)
def _series_history(dataset_id: str, series_id: str) -> pd.DataFrame:
    warehouse = get_warehouse()
    return explore.series_frame(warehouse, warehouse.get_dataset(dataset_id), series_id)


def leaderboard(run_id: str) -> pd.DataFrame:
    """Overall metrics per model with rung, seconds and gains over the baselines."""
    metrics = _metrics(run_id)
    board = metrics[metrics["level"] == "overall"].pivot(index="model", columns="metric", values="value")
    board["seconds"] = _timings(run_id).groupby("model")["seconds"].sum()
    board["rung"] = [model_info(m).rung.value if m in MODELS or is_external(m) else "?" for m in board.index]
    board = board.reset_index().sort_values(["wape", "mae"]).reset_index(drop=True)  # MAE: when no WAPE
    for baseline in BASELINES:
        gains = improvement(board, baseline)
        if not gains.empty:
            board[f"vs {baseline}"] = board["model"].map(gains)
    return board


def best_model_sentence(board: pd.DataFrame, best_fell_back: dict[int, int] | None, n_folds: int) -> str:
    """The headline over the leaderboard: the model with the lowest WAPE and its gains over
    the baselines; none when no WAPE is defined (nothing sold on the scored days); and
    said beside it when that model fell back for every series of some folds, because
    there its scores are the simple rules', not its own (``best_fell_back``: fold → series,
    from ``accounting.whole_fold_fallbacks``)."""
    if board["wape"].isna().all():
        return _("No model can be ranked: WAPE is undefined for every model because nothing sold on the scored "
                 "days. Compare their MAE (units) in the table instead.")
    best = board.iloc[0]
    name = fmt.model_name(best["model"])
    gains = []
    for baseline in BASELINES:
        column = f"vs {baseline}"
        if column in board and best["model"] != baseline and not fmt.missing(best[column]):
            gain = float(best[column])
            other = fmt.model_name(baseline)
            gains.append(_("WAPE the same as {model}").format(model=other) if fmt.pct_change(gain) == fmt.no_change()
                         else (_("{pct} lower than {model}") if gain > 0 else _("{pct} higher than {model}"))
                         .format(pct=fmt.pct(abs(gain)), model=other))
    sentence = _("Best model: **{model}** ({rung}), WAPE **{wape}**").format(
        model=name, rung=rung_name(best["rung"]), wape=fmt.pct(best["wape"]))
    if gains:
        sentence = _("{best}, {gains}").format(best=sentence, gains=_(", ").join(gains))
    if best_fell_back:
        sentence = _("{best} — but {model} fell back to a simple rule for every series in {folds}: these are the "
                     "rules' scores, not its own").format(best=sentence, model=name,
                                                          folds=accounting.folds_phrase(list(best_fell_back), n_folds))
    return _("{sentence}.").format(sentence=sentence)


def board_metrics(board: pd.DataFrame) -> list[str]:
    """The metrics of ``METRIC_ORDER`` the run has: a one-fold run, or one stored before the
    spread was scored, has no pinball loss or coverage."""
    return [m for m in METRIC_ORDER if m in board.columns]


def readable_board(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard as people read it: model and metric names, gains headed by the
    baseline's name ("vs Seasonal naive"), in the order of ``METRIC_ORDER``."""
    gains = [c for c in board if c.startswith("vs ")]
    shown = board[["model", "rung", *board_metrics(board), "seconds", *gains]].copy()
    shown["model"] = shown["model"].map(fmt.model_name)
    shown["rung"] = shown["rung"].map(rung_name)
    names = {"model": _("Model"), "rung": _("Rung"), "seconds": _("Seconds")} | {
        m: fmt.metric_name(m) for m in METRIC_ORDER}
    names |= {c: gain_column(c[3:]) for c in gains}
    return shown.rename(columns=names)


def config_summary(info: runs.RunInfo) -> str:
    """The run's split and scope in a line, in the data's periods: "horizon 7 days, 2 folds,
    step 7 days, expanding window · store_id = S001"."""
    split, freq = info.config.split, info.freq
    window = window_name(split.window)
    parts = [_("horizon {span}").format(span=periods.span(freq, split.horizon)),
             ngettext("{n} fold", "{n} folds", split.folds).format(n=split.folds),
             _("step {span}").format(span=periods.span(freq, split.step or split.horizon)),
             _("{window} window of {span}").format(window=window, span=periods.span(freq, split.train_periods))
             if split.train_periods else _("{window} window").format(window=window)]
    if split.gap:
        parts.append(_("gap {span}").format(span=periods.span(freq, split.gap)))
    scope = "; ".join(f"{k} = {', '.join(v)}" for k, v in info.scope.items()) or _("all series")
    return f"{_(', ').join(parts)} · {scope}"


def render_run(run_id: str, key: str = "run") -> None:
    warehouse = get_warehouse()
    try:
        info = runs.get_run(warehouse, run_id)
    except MitoshiError as error:
        show_error(error)
        return
    board = leaderboard(run_id)
    st.subheader(md(info.name), anchor=False)
    st.caption(_("{dataset} · {scored} · {config} · run {run_id} · {created} · {seconds} s · code {code} · data "
                 "{fingerprint}").format(
                     dataset=md(info.dataset_name), scored=accounting.scored_phrase(info.n_scored, info.n_series),
                     config=md(config_summary(info)), run_id=info.run_id, created=f"{info.created_at:%Y-%m-%d %H:%M}",
                     seconds=f"{info.wall_seconds:,.1f}", code=info.code_version, fingerprint=info.fingerprint))

    excluded, fallbacks = left_out_and_fallbacks(run_id)
    cutoffs = _cutoffs(run_id)
    whole_fold = accounting.whole_fold_fallbacks(excluded, fallbacks, info.n_series, cutoffs)
    st.markdown(best_model_sentence(board, whole_fold.get(str(board["model"].iloc[0])), len(cutoffs)))

    shown_board = readable_board(board)
    shown_board = rounded_percent(shown_board, [fmt.metric_name(m) for m in PERCENT_METRICS]
                                  + [gain_column(b) for b in BASELINES])
    # Numbers take small columns so that the whole board, gains included, fits the page without scrolling.
    config = {fmt.metric_name(m): st.column_config.NumberColumn(format="percent" if m in PERCENT_METRICS else "%.3f",
                                                                help=metric_help(m), width="small",
                                                                step=PERCENT_STEP if m in PERCENT_METRICS else None)
              for m in board_metrics(board)}
    gain_columns = {gain_column(b): b for b in BASELINES}
    config |= {c: st.column_config.NumberColumn(c, format="percent", step=PERCENT_STEP, help=_(
        "WAPE reduction against {model}").format(model=fmt.model_name(gain_columns[c])))
               for c in shown_board if c in gain_columns}
    seconds, rung = _("Seconds"), _("Rung")
    config[seconds] = st.column_config.NumberColumn(seconds, format="%.2f", help=_("Fit + predict, all folds"),
                                                    width="small")
    config[rung] = st.column_config.TextColumn(rung, width="medium")  # "current practice" in full
    table(shown_board, column_config=config, height="content")  # every model, without scrolling
    # A model whose row holds no forecast of its own in some fold is flagged under the table.
    flagged = accounting.whole_fold_sentences(excluded, named_fallbacks(fallbacks), info.n_series, cutoffs)
    for line in flagged:
        st.warning(md(line), icon=":material/warning:")
    csv_download(shown_board, _("Download the leaderboard as CSV"), f"leaderboard_{run_id}.csv",
                 key=f"{key}_board_csv")
    _accounted(info, flagged)

    complexity = {m: model_info(m).complexity for m in board["model"] if m in MODELS or is_external(m)}
    st.plotly_chart(backtest_charts.ladder(board, complexity, external.effort_weeks(warehouse, run_id)), width="stretch",
                    key=f"{key}_ladder")
    baselines = [b for b in BASELINES if b in set(board["model"])]
    if baselines:
        cols = st.columns(len(baselines))
        for baseline, slot in zip(baselines, cols, strict=True):
            gains = improvement(board, baseline).set_axis(board["model"])
            slot.plotly_chart(backtest_charts.improvement_bars(gains, baseline), width="stretch",
                              key=f"{key}_gain_{baseline}")

    metric = st.segmented_control(_("Metric"), board_metrics(board), default="wape", key=f"{key}_metric",
                                  format_func=fmt.metric_name) or "wape"
    metric_name = fmt.metric_name(metric)
    metrics = _metrics(run_id)
    metrics = pd.concat([metrics[metrics["metric"] == metric], _series_metrics(run_id, metric)], ignore_index=True)
    tab_step, tab_fold, tab_segment, tab_series, tab_spread = st.tabs(
        [_("By horizon step"), _("By fold"), _("By segment"), _("One series"), _("Per-series spread")])
    with tab_step:
        steps = metrics[metrics["level"] == "step"].assign(step=lambda f: f["group"].astype(int))
        st.plotly_chart(backtest_charts.metric_lines(
            steps, "step", metric, _("{metric} by periods ahead").format(metric=metric_name),
            _("Periods after the cutoff ({unit})").format(unit=periods.period_noun(info.freq, plural=True))),
            width="stretch", key=f"{key}_step")
    with tab_fold:
        folds = metrics[metrics["level"] == "fold"].assign(cutoff=lambda f: pd.to_datetime(f["group"]))
        st.plotly_chart(backtest_charts.metric_lines(
            folds, "cutoff", metric, _("{metric} by fold: is it stable?").format(metric=metric_name),
            _("Fold cutoff")), width="stretch", key=f"{key}_fold")
    with tab_segment:
        _segments(metrics, board, metric, key)
    with tab_series:
        _one_series(info, metrics, key)
    with tab_spread:
        per_series = metrics[metrics["level"] == "series"]
        st.plotly_chart(backtest_charts.error_distribution(per_series, metric), width="stretch", key=f"{key}_spread")
    render_calibration(run_id, board, key)  # the spread of the forecasts (issue 14)


def _accounted(info: runs.RunInfo, flagged: list[str]) -> None:
    """Every series accounted for: what the folds left out and which models fell back,
    but the sentences ``flagged`` already under the leaderboard."""
    if info.n_scored is None:
        st.caption(_("This run was stored before Mitoshi counted the series a fold left out and the models' "
                     "fallbacks."))
        return
    excluded, fallbacks = left_out_and_fallbacks(info.run_id)
    fallbacks = named_fallbacks(fallbacks)
    if excluded.empty and fallbacks.empty:
        st.caption(_("Every series was scored in every fold, and every model forecast every series itself."))
        return
    cutoffs = _cutoffs(info.run_id)
    lines = [line for line in accounting.sentences(excluded, fallbacks, info.n_series, cutoffs)
             if line not in flagged]
    st.info("\n".join(f"- {md(line)}" for line in lines), icon=":material/fact_check:")
    labels = dataset_series_labels(info.dataset_id)  # ids where the dataset has no attribute or name
    header = accounting.header
    with st.expander(_("Which series were left out or fell back"), icon=":material/list:"):
        if not excluded.empty:
            st.markdown(_("**Left out of a fold**"))
            table(accounting.left_out_table(excluded, cutoffs, labels),
                  column_config={header("Cutoff"): st.column_config.DateColumn(format="YYYY-MM-DD"),
                                 header("Series"): st.column_config.NumberColumn(help=_("How many series"))})
        if not fallbacks.empty:
            st.markdown(_("**Forecast by a simple rule instead of the model**"))
            table(accounting.fallback_table(fallbacks, cutoffs, labels),
                  column_config={header("Series"): st.column_config.NumberColumn(help=_("How many series")),
                                 header("Folds"): st.column_config.TextColumn(
                                     help=_("The folds it happened in (1 = oldest)"))})


def _segments(metrics: pd.DataFrame, board: pd.DataFrame, metric: str, key: str) -> None:
    pairs = metrics[metrics["level"].str.startswith("pair:")]
    model = st.selectbox(_("Model"), board["model"].tolist(), key=f"{key}_segment_model", format_func=fmt.model_name)
    if not pairs.empty:
        rows_label, cols_label = pairs["level"].iloc[0].removeprefix("pair:").split(PAIR_SEP)
        cells = pairs[pairs["model"] == model]
        split = cells["group"].str.split(PAIR_SEP, regex=False, expand=True)
        frame = pd.DataFrame({"row": split[0], "col": split[1], "value": cells["value"].to_numpy()})
        st.plotly_chart(backtest_charts.segment_heatmap(frame, rows_label, cols_label, metric, model), width="stretch",
                        key=f"{key}_heat")
    singles = metrics[metrics["level"].str.startswith("segment:") & (metrics["model"] == model)]
    for level, part in singles.groupby("level"):
        column = level.removeprefix("segment:")
        if part["group"].nunique() <= 60:
            # Segment values have no order to join with a line: bars from 0, sorted.
            title = _("{metric} of {model} by {column}").format(metric=fmt.metric_name(metric),
                                                                model=fmt.model_name(model), column=column)
            st.plotly_chart(backtest_charts.metric_lines(part.assign(x=part["group"].astype(str)), "x", metric, title,
                                                         column),
                            width="stretch", key=f"{key}_seg_{column}")
        else:
            st.caption(_("{n:,} values of {column}: too many to draw; the worst are in the **One series** tab.")
                       .format(n=part["group"].nunique(), column=md(column)))


def _one_series(info: runs.RunInfo, metrics: pd.DataFrame, key: str) -> None:
    per_series = metrics[metrics["level"] == "series"]
    order = per_series.groupby("group")["value"].mean().sort_values(ascending=False)
    labels = dataset_series_labels(info.dataset_id)
    series_id = st.selectbox(_("Series ({n:,}; worst first by the chosen metric)").format(n=len(order)),
                             order.index.tolist(),
                             key=f"{key}_series", format_func=lambda s: labels.get(s, s))
    forecasts = _series_forecasts(info.run_id, series_id)
    history = forecasts.drop_duplicates(DATE)[[DATE, "actual"]].rename(columns={"actual": "y"})
    if info.dataset_id:
        try:
            stored = _series_history(info.dataset_id, series_id)
            start = forecasts["cutoff"].min() - pd.Timedelta(days=120 if info.freq.value == "D" else 800)
            history = stored[stored[DATE] >= start][[DATE, "y"]]
        except MitoshiError:
            st.caption(_("The run's dataset has been deleted since: only the scored periods are shown."))
    models = st.multiselect(_("Models"), sorted(forecasts["model"].unique()),
                            default=sorted(forecasts["model"].unique())[:3], key=f"{key}_series_models",
                            format_func=fmt.model_name, placeholder=_("Choose options"))
    title = _("{series}: forecasts per fold against actuals").format(series=labels.get(series_id, series_id))
    st.plotly_chart(backtest_charts.forecast_vs_actual(history, forecasts[forecasts["model"].isin(models)], title,
                                                       _("units per period")),
                    width="stretch", key=f"{key}_series_chart")


# ---------------------------------------------------------------------------------
# The spread of the forecasts: coverage and calibration (issue 14)
# ---------------------------------------------------------------------------------
SPREAD_COLUMNS = ("coverage_80", "coverage_95", "pinball", "width_80")


def coverage_sentence(model: str, coverage_80: float, coverage_95: float) -> str:
    """A model's interval coverage in words: "**Theta**: the 80 % interval held **78.1%** of the
    actual values (80 % when the interval is right), the 95 % interval **90.8%** (95 %)."
    (fractions in)."""
    name = md(fmt.model_name(model))
    if coverage_95 == coverage_95:
        return _("**{model}**: the 80 % interval held **{coverage_80}** of the actual values (80 % when the interval "
                 "is right), the 95 % interval **{coverage_95}** (95 %).").format(
                     model=name, coverage_80=fmt.pct(coverage_80), coverage_95=fmt.pct(coverage_95))
    return _("**{model}**: the 80 % interval held **{coverage_80}** of the actual values (80 % when the interval is "
             "right), the 95 % interval is not scored (too few errors).").format(
                 model=name, coverage_80=fmt.pct(coverage_80))


def spread_summary(board: pd.DataFrame, series_metrics: pd.DataFrame) -> str:
    """The spread of a run in words: the model with the lowest pinball loss among those that
    have one and its coverage; the intervals no model could score (too few errors for their
    quantiles: 9 out-of-fold errors for the 80 % interval, 39 for the 95 % one, even pooled
    over every series); and, per the run's series-level metrics (level, group, model,
    metric, value), the series scored (a WAPE) without an interval (scored in one fold only,
    or too few errors), which the spread scores leave out."""
    parts = []
    scored = board.dropna(subset=["pinball"]) if "pinball" in board.columns else board.iloc[:0]
    if not scored.empty:
        best = scored.sort_values("pinball").iloc[0]
        parts.append(coverage_sentence(best["model"], best["coverage_80"], best["coverage_95"]))
        parts.append(_("It has the lowest pinball loss of the run (the quantile forecasts' error, scaled like MASE: "
                       "lower is better)."))
    else:
        best = board.dropna(subset=["coverage_80"]).iloc[0]
        parts.append(_("**{model}**: the 80 % interval held **{coverage_80}** of the actual values (80 % when the "
                       "interval is right). No model has a pinball loss: it averages every level from 2.5 % to "
                       "97.5 %, and this run has too few errors for some.").format(
                           model=md(fmt.model_name(best["model"])), coverage_80=fmt.pct(best["coverage_80"])))
    needed = {80: 9, 95: 39}  # the finite-sample minimum of 0.1/0.9 and 0.025/0.975 (quantiles docstring)
    missing = [_("the {interval} % interval ({n} errors in the other folds needed, pooled over every series)")
               .format(interval=interval, n=needed[interval])
               for interval in (80, 95) if board[f"coverage_{interval}"].isna().all()]
    if missing:
        parts.append(_("Too few errors for {intervals}: run more folds or a longer horizon to score it.").format(
            intervals=_(" and ").join(missing)))
    if not series_metrics.empty:
        wide = series_metrics.pivot_table(index=["model", "group"], columns="metric", values="value", aggfunc="first")
        if {"wape", "pinball"} <= set(wide.columns):
            without = wide[wide["wape"].notna() & wide["pinball"].isna()].reset_index()
            without = without[without["model"].isin(scored["model"])] if not scored.empty else without
            if not without.empty:
                n = without["group"].nunique()
                names = ", ".join(md(str(g)) for g in sorted(without["group"].unique())[:5])
                parts.append(_("{n:,} series have no interval ({names}): scored in one fold only, they have no errors "
                               "in another fold; their WAPE counts, their pinball loss and coverage do not.").format(
                                   n=n, names=names + (", …" if n > 5 else "")))
    return " ".join(parts)


def few_folds_note(folds: int) -> str | None:
    """Why a run of 2 folds reads low coverage (None for 3 folds or more; a 1-fold run has no
    interval at all, ``quantiles.no_interval_reason``)."""
    if folds != 2:
        return None
    return _("This run has 2 folds: each fold's interval comes from only the other fold's errors, so coverage below "
             "nominal is expected. Run 3 folds or more for a reliable spread.")


def spread_table(board: pd.DataFrame) -> pd.DataFrame:
    """One row per model with its interval coverage, pinball loss and 80 % interval width,
    the best pinball loss first; named for people."""
    rows = board.dropna(subset=["coverage_80"]).sort_values("pinball")[["model", *SPREAD_COLUMNS]]
    return rows.assign(model=rows["model"].map(fmt.model_name)).rename(
        columns={"model": _("Model")} | {m: fmt.metric_name(m) for m in SPREAD_COLUMNS}).reset_index(drop=True)


def render_calibration(run_id: str, board: pd.DataFrame, key: str) -> None:
    """How far each model's quantiles can be trusted: the coverage of its 80 % and 95 %
    intervals in words and in a table, and the calibration chart, all read from the run's
    stored metrics; or why the run has none."""
    st.markdown(_("#### How sure are the forecasts?"))
    if "coverage_80" not in board.columns or board["coverage_80"].isna().all():
        reason = quantiles.no_interval_reason(len(_cutoffs(run_id))) or _(
            "This run was stored before Mitoshi scored the spread of forecasts: run it again to see how often the "
            "actual values fell inside each model's intervals.")
        st.info(reason, icon=":material/info:")
        return
    shown = rounded_percent(spread_table(board), [fmt.metric_name(m) for m in ("coverage_80", "coverage_95")])
    metrics = _metrics(run_id)
    st.markdown(spread_summary(board, _series_metrics(run_id, "wape", "pinball")))
    few = few_folds_note(len(_cutoffs(run_id)))
    if few:
        st.warning(few, icon=":material/warning:")
    table(shown, column_config={
        fmt.metric_name("coverage_80"): st.column_config.NumberColumn(format="percent", help=metric_help("coverage_80"),
                                                                      step=PERCENT_STEP),
        fmt.metric_name("coverage_95"): st.column_config.NumberColumn(format="percent", help=metric_help("coverage_95"),
                                                                      step=PERCENT_STEP),
        fmt.metric_name("pinball"): st.column_config.NumberColumn(format="%.3f", help=metric_help("pinball")),
        fmt.metric_name("width_80"): st.column_config.NumberColumn(
            format=_("%.1f units"), help=_("Mean width of the 80 % interval, in the target's units per series and "
                                           "period: at equal coverage, narrower is better.")),
    })
    st.plotly_chart(backtest_charts.calibration(metrics[metrics["level"] == "overall"]), width="stretch",
                    key=f"{key}_calibration")
    st.caption(_("Each model's quantiles come from its own errors in the other folds (cross-conformal: a fold's "
                 "actual values never set its own interval), per series where it has enough errors, else pooled over "
                 "the segment. Ordering up to the 90 % quantile meets demand about 9 times in 10 when its 90 % point "
                 "lies on the diagonal. Where series are often zero, the low levels sit above the diagonal: a "
                 "quantile cannot go below 0 units, so a period with a zero actual is always at or below it — it says "
                 "little about ordering, which reads the upper levels."))
    stated = external.spread_note(get_warehouse(), run_id)
    if stated:  # quantiles a model made elsewhere stated are scored as stated, not cross-conformal
        st.caption(stated)
