"""Overview: what Mitoshi is for, and where each step of the PoC lives."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.text import md
from ui.navigation import stay_in_app
from ui.state import current_dataset, get_warehouse

stay_in_app()

warehouse = get_warehouse()
dataset = current_dataset(warehouse)

st.title("Mitoshi 見通し")
st.markdown(
    "**Is this machine-learning PoC worth taking to production?** Mitoshi answers that one question "
    "for **AI Shop (AI商店)**, a Japanese retail chain asking whether store × item demand forecasting "
    "should move from PoC to production — on evidence, in money, against criteria fixed up front."
)

if dataset is not None:
    st.markdown(f"Current dataset: **{md(dataset.name)}** — {md(dataset.spec.source)}")
    cols = st.columns(4)
    cols[0].metric("Series", fmt.count(dataset.n_series))
    cols[1].metric("Rows", fmt.count(dataset.n_rows))
    cols[2].metric("From", f"{dataset.start_date:%Y-%m-%d}")
    cols[3].metric("To", f"{dataset.end_date:%Y-%m-%d}")

st.subheader("The steps of the PoC")
st.markdown("**1 · Data and current state (現状調査)** — before any model, look at the data and at how "
            "ordering is done today.")
left, right = st.columns(2)
left.page_link("pages/data.py", label="Data: profile, quality, explorer, today's ordering", icon=":material/monitoring:")
right.page_link("pages/import.py", label="Import & manage: your own CSV, Parquet or Excel", icon=":material/upload_file:")
st.markdown("**2–3 · Problem, initiatives and plan (課題定義・計画)** — a problem that can be evaluated, its value in yen, what not to "
            "do, GO/NO-GO criteria fixed up front; where to start; and the PoC plan.")
links = st.columns(4)
links[0].page_link("pages/projects.py", label="Projects", icon=":material/folder_open:")
links[1].page_link("pages/problem.py", label="Problem definition", icon=":material/assignment:")
links[2].page_link("pages/effort-impact.py", label="Effort / impact map", icon=":material/scatter_plot:")
links[3].page_link("pages/poc-plan.py", label="PoC plan and the ladder", icon=":material/timeline:")
st.markdown("**4 · Backtests** — the ladder *rules → statistics → a simple model → GBDT → a model built elsewhere*, "
            "time-ordered, never a random split; "
            "experiments stored and compared.")
left, right = st.columns(2)
left.page_link("pages/backtest.py", label="Backtest: run the ladder and read it", icon=":material/science:")
right.page_link("pages/experiments.py", label="Experiments: compare runs", icon=":material/compare_arrows:")
st.markdown("**5 · Money impact** — forecast errors as stockouts, waste and yen, against today's ordering.")
st.page_link("pages/money.py", label="Money impact: orders, stockouts and waste in yen", icon=":material/payments:")
st.markdown("**6 · Online evaluation (オンライン評価)** — the offline backtest is a promise: a pilot in a few stores tests "
            "it before the verdict (matched treated and control stores, its length from a power calculation, read out "
            "by difference-in-differences), and every published forecast is watched against what then sold.")
left, right = st.columns(2)
left.page_link("pages/pilot.py", label="Pilot: design, run and read out the pilot in stores", icon=":material/storefront:")
right.page_link("pages/monitoring.py", label="Forecast watch: published batches against the actuals",
                icon=":material/radar:")
st.markdown("**7 · Decision and hand-off** — the criteria meet the evidence: GO, CONDITIONAL GO or NO-GO, kept as a "
            "snapshot and a PDF; then the chosen model's forecasts written to a batch table.")
left, right = st.columns(2)
left.page_link("pages/report.py", label="GO / NO-GO report and PDF", icon=":material/gavel:")
right.page_link("pages/handoff.py", label="Hand-off: publish batch forecasts", icon=":material/publish:")
with st.expander("The principles behind it (機械学習を実用化するエンジニアリングスキル, Developers Summit 2023)"):
    st.markdown(
        """
- Start from a problem that can be evaluated; effort is not value.
- Try rules and statistics before GBDT, and give up when nothing pays.
- Never split a time series at random: evaluate on the future only.
- Design from inference: the first production form is batch forecasts in a well-designed table.
- Build everything to be changed.
"""
    )
