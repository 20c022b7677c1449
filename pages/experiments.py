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
from core.text import md
from ui.backtest import config_summary, fallback_text, leaderboard, render_run, run_forecasts
from ui.navigation import stay_in_app
from ui.state import csv_download, get_warehouse, show_error, table

stay_in_app()


@st.cache_data(show_spinner=False, max_entries=16)
def _segment_of(dataset_id: str, column: str) -> dict[str, str] | str:
    """Series id → its value of ``column`` (a key or attribute) in the dataset; or, when
    the dataset has been deleted since or no longer has that column, a message saying so
    and what to do."""
    warehouse = get_warehouse()
    try:
        dataset = warehouse.get_dataset(dataset_id)
    except MitoshiError:
        return ("The runs' dataset has been deleted since, so their series cannot be grouped by "
                f"'{column}'. Compare runs of a dataset that is still stored.")
    try:
        frame = explore.series_attributes(warehouse, dataset, (column,))
    except WarehouseError:
        return (f"The dataset '{dataset.name}' no longer has a column '{column}' (it was changed or imported again "
                "since these runs), so their series cannot be grouped by it. Choose another segment, or backtest the "
                "dataset again.")
    return dict(zip(frame["unique_id"], frame[column], strict=True))


def run_scope(warehouse, info: runs.RunInfo) -> RunScope:
    """What the run covered: its dataset, frequency, horizon, cutoffs, series and segments."""
    levels = runs.run_metrics(warehouse, info.run_id)["level"].unique()
    return RunScope(dataset=info.dataset_name, dataset_key=info.dataset_id or f"data {info.fingerprint}",
                    freq=info.freq.label, horizon=info.config.split.horizon,
                    cutoffs=tuple(pd.Timestamp(c) for c in runs.run_cutoffs(warehouse, info.run_id)),
                    n_series=info.n_series,
                    segments=tuple(lv.removeprefix("segment:") for lv in levels if lv.startswith("segment:")),
                    fingerprint=info.fingerprint, scope=scope_key(info.scope), data_end=info.data_end)


st.title("Experiments")
st.caption("Every backtest run is stored with its config, data fingerprint, code version, timings, forecasts "
           "and metrics. Compare runs, test whether a gain is real, and keep the list tidy.")

warehouse = get_warehouse()
all_runs = runs.list_runs(warehouse)
if not all_runs:
    st.info("No run yet. Run one on the **Backtest** page.")
    st.page_link("pages/backtest.py", label="Go to Backtest", icon=":material/science:")
    st.stop()

rows = []
fallbacks_by_run = runs.fallback_counts(warehouse)  # one query for every run
for info in all_runs:
    board = leaderboard(info.run_id)
    best = board.iloc[0]
    fallbacks = fallbacks_by_run.get(info.run_id, {})
    rows.append({"Name": info.name, "Dataset": info.dataset_name, "Created": info.created_at,
                 "Frequency": info.freq.label, "Series": info.n_series, "Scored": info.n_scored,
                 "Fallbacks": fallback_text(fallbacks),
                 "Config": config_summary(info),
                 "Models": ", ".join(board["model"].map(fmt.model_name)),
                 "Best model": fmt.model_name(best["model"]) if pd.notna(best["wape"]) else None,  # nothing sold: none ranks
                 "Best WAPE": best["wape"],
                 "Best MASE": best["mase"], "Seconds": board["seconds"].sum(), "run_id": info.run_id})
overview = pd.DataFrame(rows)
datasets = sorted(overview["Dataset"].unique())
shown_datasets = st.multiselect("Datasets", datasets, default=datasets, key="exp_datasets")
overview = overview[overview["Dataset"].isin(shown_datasets)]
table(
    overview.drop(columns=["run_id"]),
    column_order=["Name", "Dataset", "Created", "Frequency", "Series", "Scored", "Fallbacks", "Best model",
                  "Best WAPE", "Best MASE", "Seconds", "Models", "Config"],
    column_config={
        "Created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Series": st.column_config.NumberColumn(help="Series in the run's scope"),
        "Scored": st.column_config.NumberColumn(
            help="Series scored in at least one fold (–: stored before Mitoshi counted them)"),
        "Fallbacks": st.column_config.TextColumn(
            help="Series each model left to a simple rule in some fold (never sold, too short, a fit that failed "
                 "or did not converge); open the run below for which and why"),
        "Best WAPE": st.column_config.NumberColumn(format="percent"),
        "Best MASE": st.column_config.NumberColumn(format="%.3f"),
        "Seconds": st.column_config.NumberColumn(format="%.1f", help="Fit and predict, every model and fold"),
        "Config": st.column_config.TextColumn(help="How the run split the data into folds, and its scope"),
    },
)
csv_download(overview, "Download the runs as CSV", "mitoshi_experiments.csv", key="exp_download")
repeated = overview["Name"].duplicated(keep=False)
names = {rid: f"{name} ({rid[:6]})" if twice else name
         for rid, name, twice in zip(overview["run_id"], overview["Name"], repeated, strict=True)}
by_label = {label: rid for rid, label in names.items()}
selected = [by_label[label] for label in st.multiselect(
    "Runs to compare (two or more; the first is the reference)", list(by_label), key="exp_compare")]

if len(selected) >= 2:
    st.subheader(f"Comparing {len(selected)} runs")
    infos = {run_id: runs.get_run(warehouse, run_id) for run_id in selected}
    first, other = selected[0], selected[1]
    scopes = {names[r]: run_scope(warehouse, infos[r]) for r in selected}
    differ = scope_differences(scopes)
    comparable = same_data(scopes)
    shared = shared_forecasts({names[r]: run_forecasts(r) for r in selected}) if comparable else None
    changed = changed_actuals(shared) if comparable else 0
    if not comparable:
        st.warning("These runs are on different data — they differ in " + md("; ".join(differ)) + ". Their errors "
                   "are not comparable: below are only their settings. Compare runs of one dataset, backtested on "
                   "the same data.", icon=":material/warning:")
    elif changed:
        comparable = False
        st.warning(f"These runs are on different data: {changed:,} of the values they both scored differ, so the "
                   f"dataset {md(infos[first].dataset_name)} changed between them (data "
                   + ", ".join(f"{md(names[r])}: {infos[r].fingerprint}" for r in selected) + "). Their errors are "
                   "not comparable: below are only their settings. Backtest the current data again and compare "
                   "those runs.", icon=":material/warning:")
    elif shared.empty:
        st.warning("These runs share no series, cutoff and horizon step — they differ in " + md("; ".join(differ))
                   + ". There is nothing to compare their errors on.", icon=":material/warning:")
    elif differ:
        steps = shared.steps
        st.warning(
            "These runs differ in " + md("; ".join(differ)) + ". They are compared only on what they share: "
            f"{shared.n_series:,} series, {len(shared.cutoffs)} cutoff{'s' if len(shared.cutoffs) != 1 else ''} "
            f"({', '.join(f'{c:%Y-%m-%d}' for c in shared.cutoffs)}) and horizon steps "
            f"{steps[0]}–{steps[-1]}" + (f" ({len(steps)} steps)" if len(steps) != steps[-1] - steps[0] + 1 else "")
            + ". Each run's own figures, on all it scored, are in its view below.", icon=":material/warning:")

    differences = config_differences({names[r]: infos[r].config.to_dict() | {"scope": infos[r].scope,
                                                                             "dataset": infos[r].dataset_name}
                                      for r in selected})
    st.markdown("**What differs between the configs**")
    if differences.empty:
        st.caption("The configs are identical (same dataset, scope, time settings and models).")
    else:
        st.dataframe(differences, width="stretch", placeholder="–")

    fell_back = {names[r]: fallback_text(fallbacks_by_run.get(r, {})) for r in selected}
    if any(fell_back.values()):
        st.caption("Fell back to a simple rule in some fold — " + md(" · ".join(
            f"{name}: {text or 'none'}" for name, text in fell_back.items())) + ". Those series are scored on the "
            "rule's forecasts, not the model's.")

    if comparable and not shared.empty:
        wapes = shared_wape(shared)
        models = [m for m in wapes.index if wapes.loc[m].notna().all()]  # in every run
        st.markdown(f"**WAPE per model on what the runs share** (the first ticked run, *{md(names[first])}*, is the "
                    "reference; differences in percentage points)")
        deltas = pd.DataFrame({"Model": [fmt.model_name(m) for m in wapes.index]})
        for r in selected:
            deltas[names[r]] = wapes[names[r]].to_numpy()
        for r in selected[1:]:
            deltas[f"Δ {names[r]} (pp)"] = [fmt.pp(v) if not fmt.missing(v) else None
                                            for v in (wapes[names[r]] - wapes[names[first]]).to_numpy()]
        table(deltas, column_config={names[r]: st.column_config.NumberColumn(format="percent") for r in selected})

        segments = shared_segments(scopes) if comparable else []
        if models and segments and infos[first].dataset_id:
            a, b = st.columns(2)
            model = a.selectbox("Model for segment wins and losses", models, key="exp_model",
                                format_func=fmt.model_name)
            column = b.selectbox("Segment (only those every compared run has)", segments, key="exp_level")
            segment_of = _segment_of(infos[first].dataset_id, column)
            if isinstance(segment_of, str):  # the dataset or its column is gone
                st.info(md(segment_of), icon=":material/info:")
            else:
                wins = shared_segment_wins(shared, names[first], names[other], model, segment_of)
                st.markdown(f"*{md(names[other])}* against *{md(names[first])}* with {md(fmt.model_name(model))}, "
                            f"on the shared series and dates: lower WAPE in **{(wins['winner'] == 'B').sum()}** of "
                            f"{len(wins)} segments, higher in **{(wins['winner'] == 'A').sum()}**.")
                heading = column[:1].upper() + column[1:]
                table(wins.rename(columns={"group": heading, "a": names[first], "b": names[other],
                                           "delta": "Δ WAPE (pp)", "winner": "Lower WAPE"})
                      .assign(**{"Δ WAPE (pp)": lambda f: [fmt.pp(v) if not fmt.missing(v) else None
                                                           for v in f["Δ WAPE (pp)"]],
                                 "Lower WAPE": lambda f: f["Lower WAPE"].map(
                                     {"A": names[first], "B": names[other], "tie": "Tie", "": None})}),
                      column_config={names[first]: st.column_config.NumberColumn(format="percent"),
                                     names[other]: st.column_config.NumberColumn(format="percent")})
        elif not segments:
            st.caption("No segment is in every compared run, so there are no segment wins to show.")

st.subheader("Is the gain real? (Diebold–Mariano)")
test_run = st.selectbox("Run", list(names), format_func=names.get, key="exp_dm_run",
                        index=list(names).index(selected[0]) if selected else 0)
board = leaderboard(test_run)
baselines = [b for b in BASELINES if b in set(board["model"])]
if not baselines:
    st.info("This run has neither seasonal naive nor current practice to test against.")
else:
    forecasts = runs.run_forecasts(warehouse, test_run)
    tested = runs.get_run(warehouse, test_run)
    per = periods.period_noun(tested.freq)
    difference = f"MAE difference (per series and {per}, data's units)"
    results = []
    for baseline in baselines:
        for model in board["model"]:
            if model != baseline:
                test = diebold_mariano(forecasts, model, baseline, tested.config.split.horizon)
                results.append({"Model": fmt.model_name(model), "Baseline": fmt.model_name(baseline),
                                difference: test.mean_difference, "DM statistic": test.statistic,
                                "p-value": fmt.p_value(test.p_value) if not fmt.missing(test.p_value) else None,
                                "Verdict": "Significantly better" if test.significant else "Not significantly better"})
    table(pd.DataFrame(results), column_config={
        "DM statistic": st.column_config.NumberColumn(format="%.2f", help="Negative: the model's errors are smaller"),
        difference: st.column_config.NumberColumn(
            format="%.3f", help=f"The model's mean absolute error minus the baseline's, in the data's units per "
                                f"series and {per}; negative: the model is better"),
        "p-value": st.column_config.TextColumn(help="One-sided: the chance of a gain this large if there were none")})
    st.caption(diebold_mariano_note(tested.freq))

st.subheader("Open, rename or delete a run")
chosen = st.selectbox("Run", list(names), format_func=names.get, key="exp_open")
left, right = st.columns(2)
with left.form("rename_run"):
    new_name = st.text_input("New name", value=names[chosen])
    if st.form_submit_button("Rename"):
        try:
            runs.rename_run(warehouse, chosen, new_name)
            st.rerun()
        except MitoshiError as error:
            show_error(error)
with right.form("delete_run"):
    st.markdown(f"Delete **{md(names[chosen])}** with its forecasts and metrics. This cannot be undone.")
    sure = st.checkbox("Yes, delete this run")
    if st.form_submit_button("Delete"):
        if not sure:
            st.warning("Tick 'Yes, delete this run' to confirm.")
        else:
            runs.delete_run(warehouse, chosen)
            st.rerun()
with st.expander(f"Open '{md(names[chosen])}'", expanded=False):
    render_run(chosen, key="exp")
st.caption(f"{len(all_runs):,} run{'' if len(all_runs) == 1 else 's'} stored · best WAPE overall "
           f"{fmt.pct(pd.Series([r['Best WAPE'] for r in rows], dtype=float).min())}")
