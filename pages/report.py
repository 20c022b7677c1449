"""GO / NO-GO report: the project's criteria, fixed up front, evaluated against a stored
run and its money impact, and against the pilot in stores once it is read out (before it,
the online criteria wait and the verdict is at most a conditional GO); the decision kept
as an immutable snapshot, and as a PDF."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest import external
from core.decision import store as decisions
from core.decision.evaluation import criteria_moved, decide, recommended_model
from core.decision.pdf import decision_pdf, moment, said
from core.decision.verdict import DecisionError
from core.errors import MitoshiError
from core.i18n import _, language
from core.pilot.store import online_evidence
from core.planning import store as planning
from core.text import md
from ui.decision import HEAD_LABELS, criteria_preview, decision_heads, online_preview, readiness_form, render_decision
from ui.money import compute_impact, impact_settings, run_picker
from ui.navigation import stay_in_app
from ui.state import get_warehouse, project_picker, show_error, table

stay_in_app()

st.title(_("GO / NO-GO report"))
st.caption(_("Is this PoC worth taking to production? The criteria were fixed before any result was known; here they "
             "meet the evidence — accuracy, money, significance, stability and production readiness — and the "
             "decision is kept exactly as it was taken."))

warehouse = get_warehouse()
project = project_picker(warehouse)
if project is None:
    st.stop()
pid = project.project_id
latest = planning.latest_definition(warehouse, pid)
history = decisions.list_decisions(warehouse, pid)
SHOWN = f"report_pick_{pid}"  # the decision shown: the "Show decision" box's state

with st.expander(_("Evaluate a run"), expanded=not history, icon=":material/gavel:"):
    if latest is None or not latest.definition.criteria:
        st.warning(_("This project has no GO/NO-GO criteria yet. Fix them on the Problem definition page first — "
                     "before looking at results."), icon=":material/flag:")
        st.page_link("pages/problem.py", label=_("Go to Problem definition"), icon=":material/assignment:")
        st.stop()
    st.markdown(_("**Criteria** (problem definition version {version}, saved {saved}):").format(
        version=latest.version, saved=moment(latest.saved_at)))
    st.markdown(criteria_preview(latest.definition.criteria, latest.definition.money_baselines()))
    online = online_evidence(warehouse, pid)  # the pilot as it stands now: the decision keeps it
    st.markdown(online_preview(online, len(latest.definition.online_criteria())))
    run = run_picker(f"report_run_{pid}")
    if run is None:
        st.stop()
    moved = criteria_moved(warehouse, pid, run)
    if moved:
        st.warning(md(said(moved)) + " " + _("The decision will list this among its risks."), icon=":material/history:")
    elif latest.saved_at > run.created_at:
        st.caption(":material/history: " + _("The criteria were first written after this run was made."))
    config = impact_settings(f"report_{pid}")
    # The model the verdict would take, preselected and labelled with its rule: the same
    # ladder_pick the decision runs, on the money impact of these very settings.
    pick = None
    impact = compute_impact(run, config) if config is not None else None
    if impact is not None:
        try:
            pick = recommended_model(warehouse, pid, run.run_id, impact)
        except MitoshiError as error:
            show_error(error)
    models = [*(m.alias for m in run.config.models), *external.effort_weeks(warehouse, run.run_id)]  # + made elsewhere
    others = [m for m in models if m != "practice" and (pick is None or m != pick.model)]
    options = ([pick.model] if pick else []) + others
    # Worded here, in the run's language: a widget's format_func may be called outside the script run.
    names = {m: said(pick.label()) if pick and m == pick.model else fmt.model_name(m) for m in options}
    model = st.selectbox(
        _("Model to take to production"), options, key=f"report_model_{pid}_{run.run_id}_{pick.model if pick else ''}",
        format_func=names.get,
        help=_("Preselected: the model the verdict takes by the talk's ladder — the cheapest rung (rules, then "
               "statistics, then GBDT) that meets every criterion and the KPI target, pays for its running cost and "
               "keeps the constraints (no more stockouts than the baseline); failing that, the cheapest that meets "
               "them and pays but breaks a constraint (a condition on the verdict); failing that, the one that saves "
               "the most. Its label says which rule applied. Choose another on purpose."))
    st.markdown(_("**Production readiness** — score what the team has done (the checks marked with a bolt are scored "
                  "from the evidence):"))
    try:
        previous = decisions.get_decision(warehouse, history[0].decision_id) if history else None
    except MitoshiError:
        previous = None  # a snapshot this version cannot read: start the scores from zero
    readiness = readiness_form(f"report_ready_{pid}", previous)
    a, b = st.columns(2)
    notes = a.text_area(_("Notes for the report"), key=f"report_notes_{pid}",
                        placeholder=_("e.g. to share at the store managers' meeting"))
    risks = b.text_area(_("Risks and open questions (one a line)"), key=f"report_risks_{pid}")
    if st.button(_("Evaluate and save the decision"), type="primary", icon=":material/gavel:", key=f"report_go_{pid}",
                 disabled=config is None):
        bar = st.progress(0.0, text=_("Evaluating…"))
        try:
            decision = decide(warehouse, pid, run.run_id, config, model=None if pick and model == pick.model else model,
                              readiness=readiness, notes=notes, risks=risks.splitlines(), online=online,
                              on_progress=lambda share, text: bar.progress(min(share, 1.0), text=said(text)))
            st.session_state[SHOWN] = decision.decision_id  # the decision just taken is the one shown
            st.rerun()
        except (DecisionError, MitoshiError) as error:
            bar.empty()
            show_error(error)

if not history:
    st.info(_("No decision yet for this project: evaluate a run above."), icon=":material/info:")
    st.stop()

ids = [d.decision_id for d in history]
# One source for the decision shown: the "Show decision" box's own state, set to the
# decision just evaluated before the box is drawn (so it never holds on to an older one).
if st.session_state.get(SHOWN) not in ids:
    st.session_state[SHOWN] = ids[0]
chosen = st.session_state[SHOWN]
try:
    decision = decisions.get_decision(warehouse, chosen)
except MitoshiError as error:
    show_error(error)
    st.stop()

st.divider()
top = st.columns([3, 1], vertical_alignment="bottom")
top[0].subheader(_("Decision of {when}").format(when=moment(decision.created_at, seconds=True)), anchor=False)
# The PDF is built when the button is clicked, outside this script run: in the language of the page it was
# offered on (a decision taken in English downloads in Japanese from the Japanese page).
shown_in = language()
top[1].download_button(_("Download the PDF"), data=lambda: decision_pdf(decision, shown_in), file_name=(
    f"mitoshi-decision-{decision.created_at[:10]}-{decision.decision_id}{'' if shown_in == 'en' else '-' + shown_in}"
    ".pdf"), mime="application/pdf", icon=":material/picture_as_pdf:", key=f"report_pdf_{decision.decision_id}",
    width="stretch", help=_("A4, verdict first; readable in black and white."))
render_decision(decision, f"report_{decision.decision_id}")

st.divider()
st.subheader(_("The project's decisions"), anchor=False)
heads = decision_heads(history, lambda decision_id: decisions.get_decision(warehouse, decision_id))
headers = {key: _(label) for key, label in HEAD_LABELS.items()}
table(pd.DataFrame(heads).drop(columns="label").rename(columns=headers),
      column_config={headers["decided"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
labels = {h["decision"]: h["label"] for h in heads}
st.selectbox(_("Show decision"), ids, format_func=labels.get, key=SHOWN)
