"""Experiments: every stored run, and two or more of them side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt, periods
from core.backtest import store as runs
from core.backtest.compare import (
    BASELINES,
    RunScope,
    changed_actuals,
    config_differences,
    diebold_mariano,
    diebold_mariano_note,
    same_data,
    scope_differences,
    scope_key,
    shared_forecasts,
    shared_segment_wins,
    shared_segments,
    shared_wape,
)
from core.data import explore
from core.errors import MitoshiError, WarehouseError
from core.i18n import _, language, ngettext
from core.text import md
from ui.backtest import config_summary, fallback_text, leaderboard, render_run, run_forecasts
from ui.navigation import stay_in_app
from ui.reports import report_block
from ui.state import csv_download, current_project, get_warehouse, show_error, table

stay_in_app()


@st.cache_data(show_spinner=False, max_entries=16)
def _segment_of(dataset_id: str, column: str, lang: str) -> dict[str, str] | str:
    """Series id → its value of ``column`` (a key or attribute) in the dataset; or, when
    the dataset has been deleted since or no longer has that column, a message saying so
    and what to do, in the language ``lang`` (the current one: part of the cache key)."""
    warehouse = get_warehouse()
    try:
        dataset = warehouse.get_dataset(dataset_id)
    except MitoshiError:
        return _("The runs' dataset has been deleted since, so their series cannot be grouped by '{column}'. "
                 "Compare runs of a dataset that is still stored.").format(column=column)
    try:
        frame = explore.series_attributes(warehouse, dataset, (column,))
    except WarehouseError:
        return _("The dataset '{dataset}' no longer has a column '{column}' (it was changed or imported again since "
                 "these runs), so their series cannot be grouped by it. Choose another segment, or backtest the "
                 "dataset again.").format(dataset=dataset.name, column=column)
    return dict(zip(frame["unique_id"], frame[column], strict=True))


def run_scope(warehouse, info: runs.RunInfo) -> RunScope:
    """What the run covered: its dataset, frequency, horizon, cutoffs, series and segments."""
    levels = runs.run_metrics(warehouse, info.run_id)["level"].unique()
    return RunScope(dataset=info.dataset_name, dataset_key=info.dataset_id or f"data {info.fingerprint}",
                    freq=info.freq.text, horizon=info.config.split.horizon,
                    cutoffs=tuple(pd.Timestamp(c) for c in runs.run_cutoffs(warehouse, info.run_id)),
                    n_series=info.n_series,
                    segments=tuple(lv.removeprefix("segment:") for lv in levels if lv.startswith("segment:")),
                    fingerprint=info.fingerprint, scope=scope_key(info.scope), data_end=info.data_end)


st.title(_("Experiments"))
st.caption(_("Every backtest run is stored with its config, data fingerprint, code version, timings, forecasts "
             "and metrics. Compare runs, test whether a gain is real, and keep the list tidy."))

warehouse = get_warehouse()
all_runs = runs.list_runs(warehouse)
if not all_runs:
    st.info(_("No run yet. Run one on the **Backtest** page."))
    st.page_link("pages/backtest.py", label=_("Go to Backtest"), icon=":material/science:")
    st.stop()

# The overview's columns, as people read them in the current language.
COLUMN = {"name": _("Name"), "dataset": _("Dataset"), "created": _("Created"), "freq": _("Frequency"),
          "series": _("Series"), "scored": _("Scored"), "fallbacks": _("Fallbacks"), "config": _("Config"),
          "models": _("Models"), "best": _("Best model"), "best_wape": _("Best WAPE"), "best_mase": _("Best MASE"),
          "seconds": _("Seconds")}

rows = []
fallbacks_by_run = runs.fallback_counts(warehouse)  # one query for every run
for info in all_runs:
    board = leaderboard(info.run_id)
    best = board.iloc[0]
    fallbacks = fallbacks_by_run.get(info.run_id, {})
    rows.append({COLUMN["name"]: info.name, COLUMN["dataset"]: info.dataset_name, COLUMN["created"]: info.created_at,
                 COLUMN["freq"]: info.freq.text, COLUMN["series"]: info.n_series, COLUMN["scored"]: info.n_scored,
                 COLUMN["fallbacks"]: fallback_text(fallbacks),
                 COLUMN["config"]: config_summary(info),
                 COLUMN["models"]: _(", ").join(board["model"].map(fmt.model_name)),
                 # nothing sold: none ranks
                 COLUMN["best"]: fmt.model_name(best["model"]) if pd.notna(best["wape"]) else None,
                 COLUMN["best_wape"]: best["wape"],
                 COLUMN["best_mase"]: best["mase"], COLUMN["seconds"]: board["seconds"].sum(), "run_id": info.run_id})
overview = pd.DataFrame(rows)
datasets = sorted(overview[COLUMN["dataset"]].unique())
shown_datasets = st.multiselect(_("Datasets"), datasets, default=datasets, key="exp_datasets",
    placeholder=_("Choose options"))
overview = overview[overview[COLUMN["dataset"]].isin(shown_datasets)]
table(
    overview.drop(columns=["run_id"]),
    column_order=[COLUMN[c] for c in ("name", "dataset", "created", "freq", "series", "scored", "fallbacks", "best",
                                      "best_wape", "best_mase", "seconds", "models", "config")],
    column_config={
        COLUMN["created"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        COLUMN["series"]: st.column_config.NumberColumn(help=_("Series in the run's scope")),
        COLUMN["scored"]: st.column_config.NumberColumn(
            help=_("Series scored in at least one fold (–: stored before Mitoshi counted them)")),
        COLUMN["fallbacks"]: st.column_config.TextColumn(
            help=_("Series each model left to a simple rule in some fold (never sold, too short, a fit that failed "
                   "or did not converge); open the run below for which and why")),
        COLUMN["best_wape"]: st.column_config.NumberColumn(format="percent"),
        COLUMN["best_mase"]: st.column_config.NumberColumn(format="%.3f"),
        COLUMN["seconds"]: st.column_config.NumberColumn(format="%.1f", help=_("Fit and predict, every model and fold")),
        COLUMN["config"]: st.column_config.TextColumn(help=_("How the run split the data into folds, and its scope")),
    },
)
csv_download(overview, _("Download the runs as CSV"), "mitoshi_experiments.csv", key="exp_download")
repeated = overview[COLUMN["name"]].duplicated(keep=False)
names = {rid: f"{name} ({rid[:6]})" if twice else name
         for rid, name, twice in zip(overview["run_id"], overview[COLUMN["name"]], repeated, strict=True)}
by_label = {label: rid for rid, label in names.items()}
selected = [by_label[label] for label in st.multiselect(
    _("Runs to compare (two or more; the first is the reference)"), list(by_label), key="exp_compare",
        placeholder=_("Choose options"))]

if len(selected) >= 2:
    st.subheader(_("Comparing {n} runs").format(n=len(selected)))
    infos = {run_id: runs.get_run(warehouse, run_id) for run_id in selected}
    first, other = selected[0], selected[1]
    scopes = {names[r]: run_scope(warehouse, infos[r]) for r in selected}
    differ = scope_differences(scopes)
    comparable = same_data(scopes)
    shared = shared_forecasts({names[r]: run_forecasts(r) for r in selected}) if comparable else None
    changed = changed_actuals(shared) if comparable else 0
    if not comparable:
        st.warning(_("These runs are on different data — they differ in {differences}. Their errors are not "
                     "comparable: below are only their settings. Compare runs of one dataset, backtested on the same "
                     "data.").format(differences=md("; ".join(differ))), icon=":material/warning:")
    elif changed:
        comparable = False
        st.warning(_("These runs are on different data: {n:,} of the values they both scored differ, so the dataset "
                     "{dataset} changed between them (data {fingerprints}). Their errors are not comparable: below "
                     "are only their settings. Backtest the current data again and compare those runs.").format(
                         n=changed, dataset=md(infos[first].dataset_name),
                         fingerprints=", ".join(f"{md(names[r])}: {infos[r].fingerprint}" for r in selected)),
                   icon=":material/warning:")
    elif shared.empty:
        st.warning(_("These runs share no series, cutoff and horizon step — they differ in {differences}. There is "
                     "nothing to compare their errors on.").format(differences=md("; ".join(differ))),
                   icon=":material/warning:")
    elif differ:
        steps = shared.steps
        step_range = f"{steps[0]}–{steps[-1]}"
        if len(steps) != steps[-1] - steps[0] + 1:
            step_range = _("{range} ({n} steps)").format(range=step_range, n=len(steps))
        st.warning(ngettext(
            "These runs differ in {differences}. They are compared only on what they share: {series:,} series, "
            "{n} cutoff ({cutoffs}) and horizon steps {steps}. Each run's own figures, on all it scored, are in its "
            "view below.",
            "These runs differ in {differences}. They are compared only on what they share: {series:,} series, "
            "{n} cutoffs ({cutoffs}) and horizon steps {steps}. Each run's own figures, on all it scored, are in its "
            "view below.", len(shared.cutoffs)).format(
                differences=md("; ".join(differ)), series=shared.n_series, n=len(shared.cutoffs),
                cutoffs=", ".join(fmt.date(c) for c in shared.cutoffs), steps=step_range),
            icon=":material/warning:")

    differences = config_differences({names[r]: infos[r].config.to_dict() | {"scope": infos[r].scope,
                                                                             "dataset": infos[r].dataset_name}
                                      for r in selected})
    st.markdown(_("**What differs between the configs**"))
    if differences.empty:
        st.caption(_("The configs are identical (same dataset, scope, time settings and models)."))
    else:
        st.dataframe(differences, width="stretch", placeholder="–")

    fell_back = {names[r]: fallback_text(fallbacks_by_run.get(r, {})) for r in selected}
    if any(fell_back.values()):
        st.caption(_("Fell back to a simple rule in some fold — {runs}. Those series are scored on the rule's "
                     "forecasts, not the model's.").format(runs=md(" · ".join(
                         f"{name}: {text or _('none')}" for name, text in fell_back.items()))))

    if comparable and not shared.empty:
        wapes = shared_wape(shared)
        models = [m for m in wapes.index if wapes.loc[m].notna().all()]  # in every run
        st.markdown(_("**WAPE per model on what the runs share** (the first ticked run, *{run}*, is the reference; "
                      "differences in percentage points)").format(run=md(names[first])))
        deltas = pd.DataFrame({_("Model"): [fmt.model_name(m) for m in wapes.index]})
        for r in selected:
            deltas[names[r]] = wapes[names[r]].to_numpy()
        for r in selected[1:]:
            deltas[_("Δ {run} (pp)").format(run=names[r])] = [
                fmt.pp(v) if not fmt.missing(v) else None for v in (wapes[names[r]] - wapes[names[first]]).to_numpy()]
        table(deltas, column_config={names[r]: st.column_config.NumberColumn(format="percent") for r in selected})

        segments = shared_segments(scopes) if comparable else []
        if models and segments and infos[first].dataset_id:
            a, b = st.columns(2)
            model = a.selectbox(_("Model for segment wins and losses"), models, key="exp_model",
                                format_func=fmt.model_name)
            column = b.selectbox(_("Segment (only those every compared run has)"), segments, key="exp_level")
            segment_of = _segment_of(infos[first].dataset_id, column, language())
            if isinstance(segment_of, str):  # the dataset or its column is gone
                st.info(md(segment_of), icon=":material/info:")
            else:
                wins = shared_segment_wins(shared, names[first], names[other], model, segment_of)
                st.markdown(_("*{other}* against *{first}* with {model}, on the shared series and dates: lower WAPE in "
                              "**{lower}** of {n} segments, higher in **{higher}**.").format(
                                  other=md(names[other]), first=md(names[first]), model=md(fmt.model_name(model)),
                                  lower=(wins["winner"] == "B").sum(), n=len(wins), higher=(wins["winner"] == "A").sum()))
                heading = column[:1].upper() + column[1:]
                delta, lower = _("Δ WAPE (pp)"), _("Lower WAPE")
                table(wins.rename(columns={"group": heading, "a": names[first], "b": names[other],
                                           "delta": delta, "winner": lower})
                      .assign(**{delta: lambda f: [fmt.pp(v) if not fmt.missing(v) else None for v in f[delta]],
                                 lower: lambda f: f[lower].map(
                                     {"A": names[first], "B": names[other], "tie": _("Tie"), "": None})}),
                      column_config={names[first]: st.column_config.NumberColumn(format="percent"),
                                     names[other]: st.column_config.NumberColumn(format="percent")})
        elif not segments:
            st.caption(_("No segment is in every compared run, so there are no segment wins to show."))

st.subheader(_("Is the gain real? (Diebold–Mariano)"))
test_run = st.selectbox(_("Run"), list(names), format_func=names.get, key="exp_dm_run",
                        index=list(names).index(selected[0]) if selected else 0)
board = leaderboard(test_run)
baselines = [b for b in BASELINES if b in set(board["model"])]
if not baselines:
    st.info(_("This run has neither seasonal naive nor current practice to test against."))
else:
    forecasts = runs.run_forecasts(warehouse, test_run)
    tested = runs.get_run(warehouse, test_run)
    per = periods.period_noun(tested.freq)
    difference = _("MAE difference (per series and {period}, data's units)").format(period=per)
    statistic, p_value = _("DM statistic"), _("p-value")
    results = []
    for baseline in baselines:
        for model in board["model"]:
            if model != baseline:
                test = diebold_mariano(forecasts, model, baseline, tested.config.split.horizon)
                results.append({_("Model"): fmt.model_name(model), _("Baseline"): fmt.model_name(baseline),
                                difference: test.mean_difference, statistic: test.statistic,
                                p_value: fmt.p_value(test.p_value) if not fmt.missing(test.p_value) else None,
                                _("Verdict"): _("Significantly better") if test.significant
                                else _("Not significantly better")})
    table(pd.DataFrame(results), column_config={
        statistic: st.column_config.NumberColumn(format="%.2f", help=_("Negative: the model's errors are smaller")),
        difference: st.column_config.NumberColumn(
            format="%.3f", help=_("The model's mean absolute error minus the baseline's, in the data's units per "
                                  "series and {period}; negative: the model is better").format(period=per)),
        p_value: st.column_config.TextColumn(help=_("One-sided: the chance of a gain this large if there were none"))})
    st.caption(diebold_mariano_note(tested.freq))

st.subheader(_("Open, rename or delete a run"))
chosen = st.selectbox(_("Run"), list(names), format_func=names.get, key="exp_open")
left, right = st.columns(2)
with left.form("rename_run"):
    new_name = st.text_input(_("New name"), value=names[chosen])
    if st.form_submit_button(_("Rename")):
        try:
            runs.rename_run(warehouse, chosen, new_name)
            st.rerun()
        except MitoshiError as error:
            show_error(error)
with right.form("delete_run"):
    st.markdown(_("Delete **{run}** with its forecasts and metrics. This cannot be undone.").format(
        run=md(names[chosen])))
    sure = st.checkbox(_("Yes, delete this run"))
    if st.form_submit_button(_("Delete")):
        if not sure:
            st.warning(_("Tick 'Yes, delete this run' to confirm."))
        else:
            runs.delete_run(warehouse, chosen)
            st.rerun()
with st.expander(_("Open '{run}'").format(run=md(names[chosen])), expanded=False):
    render_run(chosen, key="exp")
st.caption(ngettext("{n:,} run stored · best WAPE overall {wape}", "{n:,} runs stored · best WAPE overall {wape}",
                    len(all_runs)).format(n=len(all_runs), wape=fmt.pct(pd.Series(
                        [r[COLUMN["best_wape"]] for r in rows], dtype=float).min())))

project = current_project(warehouse)
report_block("backtest", project.project_id if project else None, {"runs": selected} if selected else {},
             key="experiments", title=_("The backtest comparison report"),
             caption=_("The runs ticked above to compare (or, with none ticked, the newest run) as a PDF for the "
                       "people who will not open the app: the leaderboard, the ladder, the error by horizon and "
                       "segment, whether each gain is real, and what was left out. Filed under the project "
                       "{project}.").format(project=f"**{md(project.name)}**" if project else "–"))
