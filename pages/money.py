"""Money impact: forecast errors turned into yen against today's ordering or its stand-in."""

from __future__ import annotations

import streamlit as st

from core.i18n import _
from ui.money import compute_impact, impact_settings, render_impact, run_picker
from ui.navigation import stay_in_app

stay_in_app()

st.title(_("Money impact"))
st.caption(_("Accuracy is not the goal; money is. Where the data are units of items with prices, each model's "
             "forecasts are replayed as the stores' orders over the backtest — forecast plus a safety stock from the "
             "model's own errors, or the model's own quantile of demand — against the same demand: units sold, sales "
             "lost to empty shelves, perishables thrown away, in yen a year. Where they are not (turnover, no "
             "prices), each unit forecast too high or too low is counted at a cost you give."))

run = run_picker("money_run_select")
if run is None:
    st.stop()
config = impact_settings("money", run)
if config is None:
    st.stop()
impact = compute_impact(run, config)
if impact is None:
    st.stop()
if impact.n_series < run.n_series:
    st.caption(":material/info: " + _("{missing:,} of the run's {total:,} series have no forecast in any fold (they "
                                      "ended before the first cutoff): they are not in the money.").format(
        missing=run.n_series - impact.n_series, total=run.n_series))
render_impact(impact, "money")
st.page_link("pages/report.py", label=_("Next: evaluate the GO/NO-GO criteria on this run"), icon=":material/gavel:")
