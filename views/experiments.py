"""Experiments: every stored run, and two or more of them side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest.compare import BASELINES, config_differences, diebold_mariano, segment_wins
from core.errors import MitoshiError
from core.text import md
from core.warehouse import runs
from ui.run_view import config_summary, leaderboard, render_run
from ui.state import csv_download, get_warehouse, show_error, table

st.title("Experiments")
st.caption("Every backtest run is stored with its config, data fingerprint, code version, timings, forecasts "
           "and metrics. Compare runs, test whether a gain is real, and keep the list tidy.")

warehouse = get_warehouse()
all_runs = runs.list_runs(warehouse)
if not all_runs:
    st.info("No run yet. Run one on the **Backtest** page.")
    st.page_link("views/backtest.py", label="Go to Backtest", icon=":material/science:")
    st.stop()

rows = []
fallbacks_by_run = runs.fallback_counts(warehouse)  # one query for every run
for info in all_runs:
    board = leaderboard(info.run_id)
    best = board.iloc[0]
    fallbacks = fallbacks_by_run.get(info.run_id, {})
    rows.append({"name": info.name, "dataset": info.dataset_name, "created": info.created_at,
                 "series": info.n_series, "scored": info.n_scored,
                 "fallbacks": ", ".join(f"{model} {count:,}" for model, count in fallbacks.items()),
                 "config": config_summary(info),
                 "models": ", ".join(board["model"]), "best model": best["model"] if pd.notna(best["wape"]) else None,  # nothing sold: none ranks
                 "best WAPE": best["wape"],
                 "best MASE": best["mase"], "seconds": board["seconds"].sum(), "run_id": info.run_id})
overview = pd.DataFrame(rows)
datasets = sorted(overview["dataset"].unique())
shown_datasets = st.multiselect("Datasets", datasets, default=datasets, key="exp_datasets")
overview = overview[overview["dataset"].isin(shown_datasets)]
table(
    overview.drop(columns=["run_id"]),
    column_order=["name", "dataset", "created", "series", "scored", "fallbacks", "best model", "best WAPE",
                  "best MASE", "seconds", "models", "config"],
    column_config={
        "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "scored": st.column_config.NumberColumn(
            help="Series scored in at least one fold (–: stored before Mitoshi counted them)"),
        "fallbacks": st.column_config.TextColumn(
            help="Series each model left to a simple rule (never sold, too short, a failed fit)"),
        "best WAPE": st.column_config.NumberColumn(format="percent"),
        "best MASE": st.column_config.NumberColumn(format="%.3f"),
        "seconds": st.column_config.NumberColumn(format="%.1f"),
    },
)
csv_download(overview, "Download the runs as CSV", "mitoshi_experiments.csv", key="exp_download")
repeated = overview["name"].duplicated(keep=False)
names = {rid: f"{name} ({rid[:6]})" if twice else name
         for rid, name, twice in zip(overview["run_id"], overview["name"], repeated, strict=True)}
by_label = {label: rid for rid, label in names.items()}
selected = [by_label[label] for label in st.multiselect(
    "Runs to compare (two or more; the first is the reference)", list(by_label), key="exp_compare")]

if len(selected) >= 2:
    st.subheader(f"Comparing {len(selected)} runs")
    infos = {run_id: runs.get_run(warehouse, run_id) for run_id in selected}
    differences = config_differences({names[r]: infos[r].config.to_dict() | {"scope": infos[r].scope,
                                                                             "dataset": infos[r].dataset_name}
                                      for r in selected})
    st.markdown("**What differs between the configs**")
    if differences.empty:
        st.caption("The configs are identical (same dataset, scope, time settings and models).")
    else:
        st.dataframe(differences, width="stretch")

    boards = {r: leaderboard(r).set_index("model") for r in selected}
    models = sorted(set.intersection(*[set(b.index) for b in boards.values()]))
    first = selected[0]
    deltas = pd.DataFrame({names[r]: boards[r]["wape"] for r in selected})
    st.markdown(f"**WAPE per model** (the first ticked run, *{md(names[first])}*, is the reference)")
    for r in selected[1:]:
        deltas[f"Δ {names[r]} (points)"] = boards[r]["wape"] - boards[first]["wape"]
    table(deltas.reset_index(), column_config={c: st.column_config.NumberColumn(format="percent")
                                               for c in deltas.columns})

    if models:
        a, b = st.columns(2)
        model = a.selectbox("Model for segment wins and losses", models, key="exp_model")
        levels = sorted({lv for r in selected for lv in runs.run_metrics(warehouse, r)["level"].unique()
                         if lv.startswith("segment:")})
        level = b.selectbox("Segment", levels, format_func=lambda lv: lv.removeprefix("segment:"), key="exp_level")
        if level:
            other = selected[1]
            wins = segment_wins(runs.run_metrics(warehouse, first), runs.run_metrics(warehouse, other),
                                model, model, level)
            st.markdown(f"*{md(names[other])}* against *{md(names[first])}*: lower WAPE in "
                        f"**{(wins['winner'] == 'B').sum()}** of {len(wins)} segments, higher in "
                        f"**{(wins['winner'] == 'A').sum()}**.")
            table(wins.rename(columns={"group": level.removeprefix("segment:"), "a": names[first], "b": names[other]}),
                  column_config={names[first]: st.column_config.NumberColumn(format="percent"),
                                 names[other]: st.column_config.NumberColumn(format="percent"),
                                 "delta": st.column_config.NumberColumn(format="percent")})

st.subheader("Is the gain real? (Diebold–Mariano)")
test_run = st.selectbox("Run", list(names), format_func=names.get, key="exp_dm_run",
                        index=list(names).index(selected[0]) if selected else 0)
board = leaderboard(test_run)
baselines = [b for b in BASELINES if b in set(board["model"])]
if not baselines:
    st.info("This run has neither seasonal naive nor current practice to test against.")
else:
    forecasts = runs.run_forecasts(warehouse, test_run)
    horizon = runs.get_run(warehouse, test_run).config.split.horizon
    results = []
    for baseline in baselines:
        for model in board["model"]:
            if model != baseline:
                test = diebold_mariano(forecasts, model, baseline, horizon)
                results.append({"model": model, "baseline": baseline,
                                "mean |error| difference": test.mean_difference, "DM statistic": test.statistic,
                                "p-value": test.p_value,
                                "verdict": "significantly better" if test.significant else "not significantly better"})
    table(pd.DataFrame(results), column_config={"p-value": st.column_config.NumberColumn(format="%.4f"),
                                                "DM statistic": st.column_config.NumberColumn(format="%.2f"),
                                                "mean |error| difference": st.column_config.NumberColumn(format="%.3f")})
    st.caption("One-sided test on the daily average of absolute errors over the run's folds (Newey-West variance, "
               "Harvey-Leybourne-Newbold correction); p < 0.05 says the model's errors are lower than the "
               "baseline's beyond chance.")

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
st.caption(f"{len(all_runs):,} runs stored · best WAPE overall "
           f"{fmt.pct(pd.Series([r['best WAPE'] for r in rows], dtype=float).min())}")
