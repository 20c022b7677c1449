"""Problem definition: a structured form saved as numbered versions, with the
GO/NO-GO criteria fixed before any result is known.

What is typed is kept as a draft in the warehouse as soon as a field is left, so a
reload or a second tab never loses it; "Save version" turns it into the next version.
"""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from core import fmt
from core.errors import MitoshiError
from core.planning import needs_ml
from core.planning.criteria import BASELINES, COMPARATORS, METRICS, threshold_unit
from core.planning.definition import (
    BLANK_CRITERION,
    LABELS,
    PROCESSES,
    ProblemDefinition,
    diff,
    from_form,
    readiness,
    row_to_criterion,
    to_form,
)
from core.planning.errors import ConflictError, InvalidInputError, conflict_rows, when
from core.warehouse import planning
from ui.state import get_warehouse, project_picker, table

st.title("Problem definition")
st.caption("Start from a problem that can be evaluated, know its value in money, and decide what not to do. Fix the "
           "GO/NO-GO criteria now, before any result is known — the GO/NO-GO report checks them. Every save is a new "
           "version; nothing is overwritten.")

warehouse = get_warehouse()
project = project_picker(warehouse)
if project is None:
    st.stop()
pid = project.project_id
latest = planning.latest_definition(warehouse, pid)
latest_no = latest.version if latest else 0
EMPTY_FORM = to_form(ProblemDefinition())


def version_form(version: int) -> dict:
    if not version:
        return EMPTY_FORM
    if latest and version == latest.version:
        return to_form(latest.definition)
    return to_form(planning.definition_version(warehouse, pid, version).definition)


# ---------------------------------------------------------------------------------
# The editor's state in this session: which version the form started from, the
# session's draft id, and the form's initial values (fixed until the next load, so
# that widgets keep what is typed).
# ---------------------------------------------------------------------------------
EDITOR, CONFLICT, FLASH = f"pd_editor_{pid}", f"pd_conflict_{pid}", f"pd_flash_{pid}"
if EDITOR not in st.session_state:
    st.session_state[EDITOR] = {"token": 0, "base": latest_no, "draft": uuid.uuid4().hex[:12], "init": EMPTY_FORM,
                                "rows": [], "next": 0, "last_draft": None, "loaded": False}
editor = st.session_state[EDITOR]


def key(field: str) -> str:
    return f"pd.{pid}.{editor['token']}.{field}"


def load(form: dict, base: int, draft_id: str | None = None) -> None:
    """Show ``form`` in fresh widgets, as an edit of version ``base``."""
    form = {**EMPTY_FORM, **form}  # a draft written by an older version of the page may lack a field
    editor.update(token=editor["token"] + 1, base=base, init=form, draft=draft_id or uuid.uuid4().hex[:12],
                  rows=list(range(len(form["criteria"]))), next=len(form["criteria"]),
                  last_draft=form if draft_id else None, loaded=True)


drafts = planning.list_drafts(warehouse, pid)
own = next((d for d in drafts if d.draft_id == editor["draft"]), None)
if key("problem") not in st.session_state and not editor["loaded"]:
    # First view in this session, or back from another page: the session's own draft
    # if it has one, else the latest version.
    if own is not None:
        load(own.form, own.base_version, own.draft_id)
    else:
        load(version_form(latest_no), latest_no)
editor["loaded"] = False
base_form = version_form(editor["base"])
init = editor["init"]


# ---------------------------------------------------------------------------------
# Actions of the buttons (callbacks run before the page is drawn again)
# ---------------------------------------------------------------------------------
def load_latest() -> None:
    st.session_state.pop(CONFLICT, None)
    newest = planning.latest_definition(warehouse, pid)  # read now: the page may be stale
    load(to_form(newest.definition) if newest else EMPTY_FORM, newest.version if newest else 0)


def restore_draft(draft: planning.Draft) -> None:
    load(draft.form, draft.base_version, draft.draft_id)
    st.session_state[FLASH] = f"Restored the unsaved changes from {when(draft.updated_at)}."


def discard_draft(draft_id: str) -> None:
    planning.delete_draft(warehouse, draft_id)


def load_version(version: int) -> None:
    load(version_form(version), latest_no)
    st.session_state[FLASH] = (f"Version {version} is in the form. Save it to make it the current definition "
                               f"(version {latest_no + 1}); version {latest_no} stays in the history.")


def save(form: dict, base: int, note: str) -> str | None:
    """Save the form as the next version. On success the outcome is flashed on the next
    run and None returned; otherwise the reason, to show beside the button pressed (a
    conflict is also kept for the panel at the top)."""
    try:
        saved = planning.save_definition(warehouse, pid, from_form(form), base, note)
    except ConflictError as error:
        st.session_state[CONFLICT] = {"message": str(error), "rows": conflict_rows(error), "form": form}
        return str(error)
    except InvalidInputError as error:
        return "The problem definition was not saved:\n\n" + "\n".join(f"- {p}" for p in error.problems)
    except MitoshiError as error:
        return str(error)
    st.session_state.pop(CONFLICT, None)
    planning.delete_draft(warehouse, editor["draft"])
    load(to_form(saved.version.definition), saved.version.version)
    if saved.unchanged:
        st.session_state[FLASH] = f"Nothing changed since version {saved.version.version}; no new version was made."
    elif saved.merged_with:
        st.session_state[FLASH] = (f"Saved version {saved.version.version}. Someone had saved version "
                                   f"{saved.merged_with} meanwhile; their changes to other fields were kept.")
    else:
        st.session_state[FLASH] = f"Saved version {saved.version.version}."
    return None


def save_mine_over_theirs() -> None:
    """'Save mine over theirs': the kept text, on top of the latest version."""
    newest = planning.latest_definition(warehouse, pid)
    problem = save(st.session_state[CONFLICT]["form"], newest.version if newest else 0, "Replaced after a conflict")
    if problem:
        st.session_state[FLASH] = ("error", problem)


def conflict_panel(conflict: dict, where: str) -> None:
    with st.container(border=True):
        st.error(conflict["message"], icon=":material/sync_problem:")
        st.markdown("**Your text, kept** (nothing of it is lost: it also stays under *Unsaved changes*):")
        table(pd.DataFrame(conflict["rows"]), column_config={"yours": st.column_config.TextColumn(width="large"),
                                                            "theirs": st.column_config.TextColumn(width="large")})
        a, b, c = st.columns(3)
        a.button("Load their version", on_click=load_latest, icon=":material/refresh:", key=f"{where}_load_theirs",
                 help="Shows the latest version; your draft stays under 'Unsaved changes' to restore or copy from.")
        b.button("Save mine over theirs", on_click=save_mine_over_theirs, icon=":material/save_as:",
                 key=f"{where}_save_mine",
                 help="Saves your text as the next version; theirs stays in the history.")
        c.button("Dismiss", on_click=lambda: st.session_state.pop(CONFLICT, None), icon=":material/close:",
                 key=f"{where}_dismiss")


def add_row() -> None:
    editor["rows"].append(editor["next"])
    editor["next"] += 1


def remove_row(row: int) -> None:
    editor["rows"].remove(row)


# ---------------------------------------------------------------------------------
# Notices: outcome of the last action, conflicts, newer versions, other drafts
# ---------------------------------------------------------------------------------
flash = st.session_state.pop(FLASH, None)
if isinstance(flash, tuple):
    st.error(flash[1], icon=":material/error:")
elif flash:
    st.success(flash, icon=":material/check_circle:")
    st.toast(flash, icon=":material/check_circle:")  # seen wherever the page is scrolled

conflict = st.session_state.get(CONFLICT)
if conflict:
    conflict_panel(conflict, "top")
elif latest_no > editor["base"]:
    st.warning(f"Version {latest_no} was saved {when(latest.saved_at)} since you opened version {editor['base']}. "
               "Saving merges their changes with yours where you changed different fields; where you both changed "
               "the same field you will be asked.", icon=":material/update:")
    st.button(f"Load version {latest_no}", on_click=load_latest, icon=":material/refresh:",
              help="Your unsaved changes stay under 'Unsaved changes' below.")

others = []
for draft in drafts:
    if draft.draft_id == editor["draft"]:
        continue
    if draft.form == version_form(latest_no):  # saved since: nothing left to recover
        planning.delete_draft(warehouse, draft.draft_id)
        continue
    others.append(draft)
for draft in others:
    start = version_form(draft.base_version) if draft.base_version <= latest_no else EMPTY_FORM
    changed = [LABELS[f] for f in LABELS if draft.form.get(f) != start.get(f)]
    with st.container(border=True):
        st.info(f"**Unsaved changes** from {when(draft.updated_at)} (another tab or an earlier visit), made on "
                f"version {draft.base_version}: {', '.join(changed) or 'no field'}.", icon=":material/draft:")
        a, b = st.columns(2)
        a.button("Restore into the form", key=f"restore_{draft.draft_id}", on_click=restore_draft, args=(draft,),
                 icon=":material/restore:")
        b.button("Discard", key=f"discard_{draft.draft_id}", on_click=discard_draft, args=(draft.draft_id,),
                 icon=":material/delete:")

status = st.container()

# ---------------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------------
form: dict = {}

with st.container(border=True):
    st.subheader("1 · The problem 課題", anchor=False)
    form["problem"] = st.text_area(
        "Problem statement", value=init["problem"], key=key("problem"), height=110,
        placeholder="何が問題で、誰が困っているか。What goes wrong today, for whom, and how often?")
    options = list(dict.fromkeys([*PROCESSES, *init["processes"]]))
    form["processes"] = st.multiselect(
        "Process affected", options, default=init["processes"], key=key("processes"), accept_new_options=True,
        help="Choose one or more, or type another.")
    form["decision"] = st.text_area(
        "Decision the prediction supports", value=init["decision"], key=key("decision"), height=80,
        placeholder="Who decides what, when, with the prediction? e.g. the store orders tomorrow's stock at 10:00.")

with st.container(border=True):
    st.subheader("2 · KPI and value KPIと価値", anchor=False)
    a, b, c, d = st.columns([3, 1.4, 1.2, 1.2])
    form["kpi_name"] = a.text_input("KPI", value=init["kpi_name"], key=key("kpi_name"),
                                    placeholder="e.g. 廃棄・欠品ロス率 Waste and stockout loss")
    form["kpi_unit"] = b.text_input("KPI unit", value=init["kpi_unit"], key=key("kpi_unit"),
                                    placeholder="e.g. % of sales")
    form["kpi_current"] = c.number_input("Current value", value=init["kpi_current"], key=key("kpi_current"),
                                         step=0.1, format="%.2f")
    form["kpi_target"] = d.number_input("Target", value=init["kpi_target"], key=key("kpi_target"), step=0.1,
                                        format="%.2f")
    a, b = st.columns([1, 2])
    form["value_yen_per_year"] = a.number_input(
        "Value of solving it (¥ per year)", value=init["value_yen_per_year"], key=key("value_yen_per_year"),
        min_value=0.0, step=1_000_000.0, format="%.0f")
    a.caption(f"= {fmt.yen(form['value_yen_per_year'])} a year" if form["value_yen_per_year"] else "In yen a year.")
    form["value_estimate"] = b.text_area(
        "How the value was estimated", value=init["value_estimate"], key=key("value_estimate"), height=100,
        placeholder="e.g. yearly sales × points of loss avoided; say where each number comes from.")
    a, b = st.columns(2)
    form["running_cost_yen_per_year"] = a.number_input(
        "Yearly running cost of the ML system (¥)", value=init["running_cost_yen_per_year"],
        key=key("running_cost_yen_per_year"), min_value=0.0, step=100_000.0, format="%.0f",
        help="Cloud, monitoring, retraining and people: a GO criterion can ask savings to exceed it.")
    form["investment_yen"] = b.number_input(
        "Initial investment: PoC and build (¥)", value=init["investment_yen"], key=key("investment_yen"),
        min_value=0.0, step=100_000.0, format="%.0f", help="What payback is counted against.")
    a.caption(fmt.yen(form["running_cost_yen_per_year"]) + " a year" if form["running_cost_yen_per_year"] else "")
    b.caption(fmt.yen(form["investment_yen"]) if form["investment_yen"] else "")

with st.container(border=True):
    st.subheader("3 · Constraints, data and scope 制約・データ・スコープ", anchor=False)
    a, b, c = st.columns([2, 2, 1])
    form["people"] = a.text_input("People", value=init["people"], key=key("people"),
                                  placeholder="Who works on it, and how much of their time?")
    form["timeline"] = b.text_input("Time", value=init["timeline"], key=key("timeline"),
                                    placeholder="By when must the decision be taken?")
    form["budget_yen"] = c.number_input("Budget (¥)", value=init["budget_yen"], key=key("budget_yen"), min_value=0.0,
                                        step=100_000.0, format="%.0f")
    c.caption(fmt.yen(form["budget_yen"]) if form["budget_yen"] else "")
    a, b = st.columns(2)
    form["data_sources"] = a.text_area("Data sources (one a line)", value=init["data_sources"],
                                       key=key("data_sources"), height=150)
    names = {d.dataset_id: d.name for d in warehouse.list_datasets()}
    linked = [names[i] for i in project.dataset_ids if i in names]
    a.caption("Datasets linked to this project: " + (", ".join(linked) if linked else "none")
              + " (link more on the Projects page).")
    form["out_of_scope"] = b.text_area("What we will not do (one a line)", value=init["out_of_scope"],
                                       key=key("out_of_scope"), height=150,
                                       help="Deciding what not to do is part of the problem definition.")

with st.container(border=True):
    st.subheader("4 · Does this need ML? 機械学習は必要か", anchor=False)
    st.caption("Tick what holds. Where a rule would do, use the rule: it is cheaper to run, explain and maintain.")
    ticked = []
    for item, statement in needs_ml.CHECKLIST:
        if st.checkbox(statement, value=item in init["checklist"], key=key(f"check_{item}")):
            ticked.append(item)
    form["checklist"] = ticked
    verdict = needs_ml.verdict(ticked)
    show = {needs_ml.ML: st.success, needs_ml.RULE: st.warning, needs_ml.NOT_READY: st.info}[verdict.kind]
    show(f"**{verdict.headline}** " + " ".join(verdict.reasons), icon=":material/rule:")

metrics = list(METRICS)
with st.container(border=True):
    st.subheader("5 · Evaluation plan 評価計画", anchor=False)
    a, b = st.columns([1, 3])
    form["offline_metric"] = a.selectbox(
        "Offline metric", metrics, index=metrics.index(init["offline_metric"]) if init["offline_metric"] in metrics
        else 0, format_func=lambda m: METRICS[m].label, key=key("offline_metric"))
    form["offline_method"] = b.text_area(
        "Offline evaluation: how", value=init["offline_method"], key=key("offline_method"), height=80,
        placeholder="e.g. rolling-origin backtest, 3 folds of 28 days — never a random split.")
    threshold_slot = st.container()
    form["online_plan"] = st.text_area(
        "Online evaluation: how", value=init["online_plan"], key=key("online_plan"), height=80,
        placeholder="e.g. two pilot stores for four weeks against the others.")

with st.container(border=True):
    st.subheader("6 · GO/NO-GO criteria GO/NO-GO基準", anchor=False)
    st.caption("Each criterion is a metric, a comparator, a threshold and, when relative, a baseline. 'Improves by at "
               "least' takes a % (10 = 10 % better). ≤ ≥ take the metric's unit (WAPE in %, money in ¥, payback in "
               "months) — or, with a baseline, a multiple of it (1 = equal). The GO/NO-GO report evaluates them.")
    widths = [2, 2.3, 1.1, 2.3, 2.8, 0.5]
    heads = st.columns(widths)
    for slot, title in zip(heads, ["Metric", "Comparator", "Threshold", "Baseline", "Note"], strict=False):
        slot.markdown(f"**{title}**")
    rows = []
    for number, row in enumerate(editor["rows"], start=1):
        start = init["criteria"][row] if row < len(init["criteria"]) else BLANK_CRITERION
        cols = st.columns(widths, vertical_alignment="center")
        metric_options = ["", *metrics]
        values = {
            "metric": cols[0].selectbox(
                f"Criterion {row + 1} metric", metric_options,
                index=metric_options.index(start["metric"]) if start["metric"] in metric_options else 0,
                format_func=lambda m: METRICS[m].label if m else "— choose —", key=key(f"c{row}_metric"),
                label_visibility="collapsed"),
            "comparator": cols[1].selectbox(
                f"Criterion {row + 1} comparator", list(COMPARATORS),
                index=list(COMPARATORS).index(start["comparator"]) if start["comparator"] in COMPARATORS else 0,
                format_func=COMPARATORS.get, key=key(f"c{row}_comparator"), label_visibility="collapsed"),
            "threshold": cols[2].number_input(
                f"Criterion {row + 1} threshold", value=start["threshold"], key=key(f"c{row}_threshold"), step=1.0,
                format="%g", label_visibility="collapsed"),
            "baseline": cols[3].selectbox(
                f"Criterion {row + 1} baseline", [None, *BASELINES],
                index=[None, *BASELINES].index(start["baseline"]) if start["baseline"] in BASELINES else 0,
                format_func=lambda b: BASELINES[b].removeprefix("the ") if b else "no baseline",
                key=key(f"c{row}_baseline"),
                label_visibility="collapsed"),
            "description": cols[4].text_input(
                f"Criterion {row + 1} note", value=start["description"], key=key(f"c{row}_description"),
                placeholder="Why this threshold (optional)", label_visibility="collapsed"),
        }
        cols[5].button("", key=key(f"c{row}_remove"), on_click=remove_row, args=(row,), icon=":material/delete:",
                       help="Remove this criterion")
        rows.append(values)
        if values["metric"] or values["threshold"] is not None:
            try:
                reads = row_to_criterion(values).describe()
                st.caption(f":material/check: {number}. Reads: **{reads}**")
            except MitoshiError as error:
                unit = threshold_unit(values["metric"], values["comparator"], values["baseline"])[1]
                st.caption(f":red[:material/error: {number}. {error}]" + (f" (threshold in {unit})" if unit else ""))
    form["criteria"] = rows
    st.button("Add a criterion", on_click=add_row, icon=":material/add:", key=key("add_criterion"))

with threshold_slot:
    try:
        on_metric = [row_to_criterion(r).describe() for r in rows if r["metric"] == form["offline_metric"]]
    except MitoshiError:
        on_metric = []
    if on_metric:
        st.markdown("**Offline threshold** (from the GO/NO-GO criteria): " + "; ".join(on_metric) + ".")
    else:
        st.warning(f"No GO/NO-GO criterion uses {METRICS[form['offline_metric']].label} yet: add one in section 6 — "
                   "it is the offline threshold.", icon=":material/flag:")

dirty = form != base_form
a, b = st.columns([3, 1], vertical_alignment="bottom")
note = a.text_input("What changed (optional, kept in the history)", key=key("note"),
                    placeholder="e.g. KPI target agreed with store operations")
clicked = b.button(f"Save version {latest_no + 1}", type="primary", icon=":material/save:", key=key("save"),
                   disabled=not dirty and latest_no > 0, width="stretch")
if clicked:
    problem = save(form, editor["base"], note)
    if problem is None:
        st.rerun()
    if st.session_state.get(CONFLICT):
        conflict_panel(st.session_state[CONFLICT], "bottom")
    else:
        st.error(problem, icon=":material/error:")

# Keep what is typed: the session's draft follows the form; none when nothing differs.
if dirty and form != editor["last_draft"]:
    planning.save_draft(warehouse, editor["draft"], pid, editor["base"], form)
    editor["last_draft"] = form
elif not dirty and editor["last_draft"] is not None:
    planning.delete_draft(warehouse, editor["draft"])
    editor["last_draft"] = None

with status:
    try:
        current = from_form(form)
    except InvalidInputError:
        current = latest.definition if latest else ProblemDefinition()
    items = readiness(current)
    done = sum(i.done for i in items)
    saved_text = (f"Version {editor['base']} of {latest_no}, saved {when(latest.saved_at)}" if latest
                  else "No version saved yet")
    change_text = (" · **unsaved changes**, kept as a draft — *Save version* at the bottom makes them a version"
                   if dirty else " · no unsaved changes")
    st.markdown(saved_text + change_text)
    st.progress(done / len(items), text=f"Ready for the PoC: {done} of {len(items)} parts")
    missing = [i for i in items if not i.done]
    if missing:
        with st.expander(f"What is still missing ({len(missing)})", icon=":material/checklist:"):
            st.markdown("\n".join(f"- **{i.label}** — {i.hint}" for i in missing))

history = planning.definition_history(warehouse, pid)
st.subheader("Version history", anchor=False)
if not history:
    st.caption("No version yet: the first save makes version 1.")
else:
    previous = {v.version: (history[i - 1].definition if i else None) for i, v in enumerate(history)}
    table(pd.DataFrame([{
        "version": v.version, "saved": v.saved_at, "note": v.note,
        "what changed": ", ".join(c.label for c in diff(previous[v.version], v.definition)) or "nothing",
    } for v in reversed(history)]), column_config={
        "version": st.column_config.NumberColumn(format="%d"),
        "saved": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "what changed": st.column_config.TextColumn(width="large")})
    versions = [v.version for v in reversed(history)]
    a, b = st.columns([1, 3], vertical_alignment="bottom")
    chosen = a.selectbox("Show the changes of version", versions, key=f"pd_history_{pid}_{latest_no}")
    b.button(f"Load version {chosen} into the form", on_click=load_version, args=(chosen,), icon=":material/history:",
             disabled=chosen == latest_no, help="Brings an older version back; saving it makes a new version.")
    picked = next(v for v in history if v.version == chosen)
    changes = diff(previous[chosen], picked.definition)
    if previous[chosen] is None:
        st.caption(f"Version {chosen} is the first: {len(changes)} parts were written.")
    elif not changes:
        st.caption("No field changed in this version.")
    for change in changes if previous[chosen] is not None else ():
        with st.container(border=True):
            st.markdown(f"**{change.label}**")
            before, after = st.columns(2)
            before.markdown(":gray[Before]  \n" + change.before.replace("\n", "  \n"))
            after.markdown(":gray[After]  \n" + change.after.replace("\n", "  \n"))
