"""PoC plan: the talk's phases with owner, dates and status on a timeline, and the
ladder of methods to try, each step with the rule that says when to stop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import streamlit as st

from core import fmt
from core.decision import store as decisions
from core.errors import MitoshiError
from core.i18n import gettext as _
from core.i18n import language
from core.planning import store as planning
from core.planning import texts
from core.planning.charts import plan_timeline
from core.planning.errors import ConflictError, InvalidInputError, conflict_rows
from core.planning.plan import (
    LadderStep,
    Phase,
    PhaseStatus,
    StepStatus,
    ladder_position,
    plan_warnings,
    progress,
)
from core.text import md
from ui.decision import ladder_evidence
from ui.navigation import stay_in_app
from ui.state import get_warehouse, project_picker, saved_conflict, show_error

stay_in_app()

st.title(_("PoC plan"))
st.caption(_("The talk's phases — current-state survey and problem definition → offline evaluation → online "
             "evaluation → GO/NO-GO decision — and the ladder of methods, cheapest first, each with its stop rule. "
             "Every change is saved as soon as you leave the field."))

warehouse = get_warehouse()
project = project_picker(warehouse)
if project is None:
    st.stop()
pid = project.project_id
STATE, CONFLICT = f"plan_{pid}", f"plan_conflict_{pid}"
today = date.today()

summary = st.container()
saved_conflict(CONFLICT, "form", "plan_dismiss")

# What each row's widgets were opened on: {row key: (Stored, token)}. A save names
# that revision; a row someone else saved while nothing is typed here is reloaded. The
# widgets are keyed by the language too: a switch shows the rows anew in it.
state = st.session_state.setdefault(STATE, {})
LANG = language()


def opened_row(key: str, stored: planning.Stored, fields: tuple[str, ...]) -> tuple[planning.Stored, str]:
    snap = state.get(key)
    prefix = f"plan.{pid}.{LANG}.{key}.{snap[1] if snap else 0}"
    mounted = f"{prefix}.{fields[0]}" in st.session_state
    if snap is None or not mounted:
        state[key] = (stored, snap[1] + 1 if snap else 0)
    elif snap[0].revision != stored.revision:
        typed = {f: st.session_state.get(f"{prefix}.{f}") for f in fields}
        if typed == _as_widgets(snap[0].item.fields()):
            state[key] = (stored, snap[1] + 1)
    snap = state[key]
    return snap[0], f"plan.{pid}.{LANG}.{key}.{snap[1]}"


def _as_widgets(values: dict) -> dict:
    return {k: (v.value if isinstance(v, PhaseStatus | StepStatus) else v) for k, v in values.items()}


def autosave(key: str, opened: planning.Stored, values: dict, build: Callable[[dict], object],
             save: Callable[[planning.Stored, object], planning.Saved]) -> None:
    """Save the row when its widgets differ from what was opened; say so, or why not."""
    if values == _as_widgets(opened.item.fields()):
        return
    try:
        saved = save(opened, build(values))
    except InvalidInputError as error:
        show_error(error)
        return
    except ConflictError as error:
        st.session_state[CONFLICT] = {"message": error, "rows": conflict_rows(error)}
        reload_row(key)  # fresh widgets on their values; the user's are in the message
        st.rerun()
    except MitoshiError as error:
        show_error(error)
        return
    st.toast(_("Saved {name}").format(name=md(opened.item.name)), icon=":material/check:")
    # After a merge the widgets must show the other person's fields too: reload them.
    reload_row(key, new_widgets=saved.merged)
    if saved.merged:
        st.rerun()


def reload_row(key: str, new_widgets: bool = True) -> None:
    rows = planning.list_phases(warehouse, pid) if key in PHASE_KEYS else planning.list_ladder(warehouse, pid)
    state[key] = (next(s for s in rows if s.key == key), state[key][1] + (1 if new_widgets else 0))


phases = planning.list_phases(warehouse, pid)
PHASE_KEYS = {s.key for s in phases}
statuses = [s.value for s in PhaseStatus]
# Options worded now, in the reader's language: a format_func is also called outside the script run.
status_names = {s.value: s.label for s in PhaseStatus}
step_status_names = {s.value: s.label for s in StepStatus}
st.subheader(_("Phases"), anchor=False)
for number, stored in enumerate(phases, start=1):
    fields = ("owner", "start", "end", "status", "notes")
    opened, prefix = opened_row(stored.key, stored, fields)
    item: Phase = opened.item
    with st.container(border=True):
        st.markdown(f"**{number}. {md(item.name)}**")
        a, b, c, d = st.columns([2.2, 1.2, 1.2, 1.4])
        values = {
            "owner": a.text_input(_("Owner"), value=item.owner, key=f"{prefix}.owner",
                                  placeholder=_("Who is accountable?")),
            "start": b.date_input(_("Start"), value=item.start, key=f"{prefix}.start"),
            "end": c.date_input(_("End"), value=item.end, key=f"{prefix}.end"),
            "status": d.selectbox(_("Status"), statuses, index=statuses.index(item.status.value),
                                  format_func=status_names.get, key=f"{prefix}.status"),
            "notes": st.text_input(_("Notes"), value=item.notes, key=f"{prefix}.notes", label_visibility="collapsed",
                                   placeholder=_("Notes: what this phase must deliver")),
        }
        autosave(stored.key, opened, values, lambda v, k=stored.key: Phase(k, **v),
                 lambda o, m: planning.save_phase(warehouse, pid, o, m))

st.subheader(_("The ladder: what to try, and when to stop"), anchor=False)
st.caption(_("Climb only while the next rung pays for itself: rules and statistics first, a simple model next, GBDT "
             "last — and giving up is a valid result. Backtest each rung on the Backtest page."))
latest_decision = decisions.list_decisions(warehouse, pid)
if latest_decision:
    try:
        st.info(ladder_evidence(decisions.get_decision(warehouse, latest_decision[0].decision_id)),
                icon=":material/gavel:")
    except MitoshiError as error:
        show_error(error)
else:
    st.caption(_("Once a run is evaluated on the GO / NO-GO report page, what each rung achieved shows here."))
steps = planning.list_ladder(warehouse, pid)
step_statuses = [s.value for s in StepStatus]
for number, stored in enumerate(steps, start=1):
    fields = ("methods", "stop_rule", "timebox_weeks", "status", "result")
    opened, prefix = opened_row(stored.key, stored, fields)
    step: LadderStep = opened.item
    with st.container(border=True):
        st.markdown(f"**{number}. {md(step.name)}**")
        a, b = st.columns(2)
        values = {
            "methods": a.text_area(_("Methods to try"), value=step.methods, key=f"{prefix}.methods", height=90),
            "stop_rule": b.text_area(_("Stop rule"), value=step.stop_rule, key=f"{prefix}.stop_rule", height=90,
                                     help=_("When do you stop at this step instead of climbing to the next?")),
        }
        c, d, e = st.columns([1, 1.5, 3])
        values["timebox_weeks"] = c.number_input(_("Time box (weeks)"), value=step.timebox_weeks, min_value=0.0,
                                                 max_value=104.0, step=1.0, format="%g", key=f"{prefix}.timebox_weeks")
        values["status"] = d.selectbox(_("Status"), step_statuses, index=step_statuses.index(step.status.value),
                                       format_func=step_status_names.get, key=f"{prefix}.status")
        values["result"] = e.text_input(_("Result"), value=step.result, key=f"{prefix}.result",
                                        placeholder=_("What the backtest showed, e.g. WAPE 31 % vs practice 36 %"))
        values = {f: values[f] for f in fields}
        autosave(stored.key, opened, values, lambda v, k=stored.key: LadderStep(k, **v),
                 lambda o, m: planning.save_step(warehouse, pid, o, m))

# The summary and timeline at the top show what is saved now, after this run's saves.
phases_now = [s.item for s in planning.list_phases(warehouse, pid)]
steps_now = [s.item for s in planning.list_ladder(warehouse, pid)]
with summary:
    done = progress(phases_now)
    cols = st.columns(4)
    cols[0].metric(_("Phases done"), _("{done} of {total}").format(done=done.done, total=done.total))
    cols[1].metric(_("PoC starts"), fmt.date(done.first_day))
    cols[2].metric(_("Plan ends"), fmt.date(done.last_day),
                   help=_("The last date in the plan; the GO/NO-GO decision is its last phase."))
    timeboxes = [s.timebox_weeks for s in steps_now if s.timebox_weeks]
    cols[3].metric(_("Ladder time boxes"), _("{weeks} weeks").format(weeks=f"{sum(timeboxes):g}") if timeboxes else "–",
                   help=_("The weeks allowed for climbing the ladder before giving up."))
    if done.current:
        if done.current.owner:
            st.markdown(_("**Now:** {phase} ({status}, {owner})").format(
                phase=md(done.current.name), status=done.current.status.label, owner=md(done.current.owner)))
        else:
            st.markdown(_("**Now:** {phase} ({status})").format(phase=md(done.current.name),
                                                                status=done.current.status.label))
    st.markdown(_("**Ladder:** {position}").format(position=md(ladder_position(steps_now))))
    frame = pd.DataFrame([{"name": p.label_lines, "owner": p.owner, "start": p.start, "end": p.end,
                           "status": p.status.value} for p in phases_now])
    if frame["start"].notna().any():
        st.plotly_chart(plan_timeline(frame, today), width="stretch", key=f"plan_timeline_{pid}")
    undated = [p.name for p in phases_now if p.start is None]
    if undated:
        st.caption(_("Not on the timeline until they have a start date: {phases}.").format(
            phases=texts.separator().join(map(md, undated))))
    for warning in plan_warnings(phases_now, today):
        st.warning(md(warning), icon=":material/warning:")
