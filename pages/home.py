"""Overview: what Mitoshi is for, and where each step of the PoC lives."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.i18n import _, render
from core.text import md
from ui.navigation import stay_in_app
from ui.state import current_dataset, get_warehouse

stay_in_app()

warehouse = get_warehouse()
dataset = current_dataset(warehouse)

st.title(_("Mitoshi 見通し"))
st.markdown(_(
    "**Is this machine-learning PoC worth taking to production?** Mitoshi answers that one question "
    "for **AI Shop (AI商店)**, a Japanese retail chain asking whether store × item demand forecasting "
    "should move from PoC to production — on evidence, in money, against criteria fixed up front."
))

if dataset is not None:
    # The dataset's source is stored as facts by the data step (a message, or plain text for an
    # older warehouse or an imported file's name): render() words it in the reader's language.
    source = render(dataset.spec.source)
    if source:
        st.markdown(_("Current dataset: **{name}** — {source}").format(name=md(dataset.name), source=md(source)))
    else:
        st.markdown(_("Current dataset: **{name}**").format(name=md(dataset.name)))
    cols = st.columns(4)
    cols[0].metric(_("Series"), fmt.count(dataset.n_series))
    cols[1].metric(_("Rows"), fmt.count(dataset.n_rows))
    cols[2].metric(_("From"), fmt.date(dataset.start_date))
    cols[3].metric(_("To"), fmt.date(dataset.end_date))

st.subheader(_("The steps of the PoC"))
st.markdown(_("**1 · Data and current state (現状調査)** — before any model, look at the data and at how "
              "ordering is done today."))
left, right = st.columns(2)
left.page_link("pages/data.py", label=_("Data: profile, quality, explorer, today's ordering"),
               icon=":material/monitoring:")
right.page_link("pages/import.py", label=_("Import & manage: your own CSV, Parquet or Excel"),
                icon=":material/upload_file:")
st.markdown(_("**2–3 · Problem, initiatives and plan (課題定義・計画)** — a problem that can be evaluated, its value in "
              "yen, what not to do, GO/NO-GO criteria fixed up front; where to start; and the PoC plan."))
links = st.columns(4)
links[0].page_link("pages/projects.py", label=_("Projects"), icon=":material/folder_open:")
links[1].page_link("pages/problem.py", label=_("Problem definition"), icon=":material/assignment:")
links[2].page_link("pages/effort-impact.py", label=_("Effort / impact map"), icon=":material/scatter_plot:")
links[3].page_link("pages/poc-plan.py", label=_("PoC plan and the ladder"), icon=":material/timeline:")
st.markdown(_("**4 · Backtests** — the ladder *rules → statistics → a simple model → GBDT → a model built "
              "elsewhere*, time-ordered, never a random split; experiments stored and compared."))
left, right = st.columns(2)
left.page_link("pages/backtest.py", label=_("Backtest: run the ladder and read it"), icon=":material/science:")
right.page_link("pages/experiments.py", label=_("Experiments: compare runs"), icon=":material/compare_arrows:")
st.markdown(_("**5 · Money impact** — forecast errors as stockouts, waste and yen, against today's ordering."))
st.page_link("pages/money.py", label=_("Money impact: orders, stockouts and waste in yen"), icon=":material/payments:")
st.markdown(_("**6 · Online evaluation (オンライン評価)** — the offline backtest is a promise: a pilot in a few stores "
              "tests it before the verdict (matched treated and control stores, its length from a power calculation, "
              "read out by difference-in-differences), and every published forecast is watched against what then "
              "sold."))
left, right = st.columns(2)
left.page_link("pages/pilot.py", label=_("Pilot: design, run and read out the pilot in stores"),
               icon=":material/storefront:")
right.page_link("pages/monitoring.py", label=_("Forecast watch: published batches against the actuals"),
                icon=":material/radar:")
st.markdown(_("**7 · Decision and hand-off** — the criteria meet the evidence: GO, CONDITIONAL GO or NO-GO, kept as "
              "a snapshot and a PDF; then the chosen model's forecasts written to a batch table."))
left, right = st.columns(2)
left.page_link("pages/report.py", label=_("GO / NO-GO report and PDF"), icon=":material/gavel:")
right.page_link("pages/handoff.py", label=_("Hand-off: publish batch forecasts"), icon=":material/publish:")
with st.expander(_("The principles behind it (機械学習を実用化するエンジニアリングスキル, Developers Summit 2023)")):
    principles = (
        _("Start from a problem that can be evaluated; effort is not value."),
        _("Try rules and statistics before GBDT, and give up when nothing pays."),
        _("Never split a time series at random: evaluate on the future only."),
        _("Design from inference: the first production form is batch forecasts in a well-designed table."),
        _("Build everything to be changed."),
    )
    st.markdown("\n".join(f"- {line}" for line in principles))
