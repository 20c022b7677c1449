"""The sections of the problem definition page. Each form section draws its widgets from
the editor's initial values and returns the fields it read; the actions behind the
buttons are the editor's (ui/planning_editor.py)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import fmt
from core.errors import MitoshiError
from core.i18n import N_
from core.i18n import gettext as _
from core.i18n import pgettext
from core.planning import needs_ml
from core.planning import store as planning
from core.planning import texts
from core.planning.criteria import BASELINE_NAMES, COMPARATORS, METRICS, OFFLINE_METRICS, threshold_unit
from core.planning.definition import (
    BLANK_CRITERION,
    PROCESSES,
    ProblemDefinition,
    diff,
    from_form,
    readiness,
    row_to_criterion,
)
from core.planning.errors import THEIRS, YOURS, InvalidInputError, when
from core.text import md
from ui.planning_editor import Conflict, ProblemEditor
from ui.state import table

CRITERION_WIDTHS = [2, 2.3, 1.1, 2.3, 2.8, 0.5]


# ---------------------------------------------------------------------------------
# Notices: outcome of the last action, conflicts, newer versions, other drafts
# ---------------------------------------------------------------------------------
def flash(editor: ProblemEditor) -> None:
    message = editor.take_flash()
    if isinstance(message, tuple):
        st.error(message[1], icon=":material/error:")
    elif message:
        st.success(message, icon=":material/check_circle:")
        st.toast(message, icon=":material/check_circle:")  # seen wherever the page is scrolled


def conflict_panel(editor: ProblemEditor, conflict: Conflict, where: str) -> None:
    with st.container(border=True):
        st.error(md(conflict.message), icon=":material/sync_problem:")
        st.markdown(_("**Your text, kept** (nothing of it is lost: it also stays under *Unsaved changes*):"))
        table(pd.DataFrame(conflict.rows), column_config={_(YOURS): st.column_config.TextColumn(width="large"),
                                                          _(THEIRS): st.column_config.TextColumn(width="large")})
        a, b, c = st.columns(3)
        a.button(_("Load their version"), on_click=editor.load_latest, icon=":material/refresh:",
                 key=f"{where}_load_theirs",
                 help=_("Shows the latest version; your draft stays under 'Unsaved changes' to restore or copy from."))
        b.button(_("Save mine over theirs"), on_click=editor.save_mine_over_theirs, icon=":material/save_as:",
                 key=f"{where}_save_mine",
                 help=_("Saves your text as the next version; theirs stays in the history."))
        c.button(_("Dismiss"), on_click=editor.dismiss_conflict, icon=":material/close:", key=f"{where}_dismiss")


def conflict_or_newer_version(editor: ProblemEditor) -> None:
    """The conflict of the last save, or else a warning that someone saved meanwhile."""
    if editor.conflict:
        conflict_panel(editor, editor.conflict, "top")
    elif editor.latest_no > editor.state.base:
        st.warning(_("Version {latest} was saved {when} since you opened version {base}. Saving merges their changes "
                     "with yours where you changed different fields; where you both changed the same field you will be "
                     "asked.").format(latest=editor.latest_no, when=when(editor.latest.saved_at),
                                      base=editor.state.base), icon=":material/update:")
        st.button(_("Load version {version}").format(version=editor.latest_no), on_click=editor.load_latest,
                  icon=":material/refresh:", help=_("Your unsaved changes stay under 'Unsaved changes' below."))


def other_drafts(editor: ProblemEditor) -> None:
    for draft in editor.other_drafts():
        changed = editor.draft_changes(draft)
        with st.container(border=True):
            st.info(_("**Unsaved changes** from {when} (another tab or an earlier visit), made on version {version}: "
                      "{fields}.").format(when=when(draft.updated_at), version=draft.base_version,
                                          fields=texts.listed(changed) or _("no field")), icon=":material/draft:")
            a, b = st.columns(2)
            a.button(_("Restore into the form"), key=f"restore_{draft.draft_id}", on_click=editor.restore_draft,
                     args=(draft,), icon=":material/restore:")
            b.button(_("Discard"), key=f"discard_{draft.draft_id}", on_click=editor.discard_draft,
                     args=(draft.draft_id,), icon=":material/delete:")


# ---------------------------------------------------------------------------------
# The form, section by section
# ---------------------------------------------------------------------------------
def problem_section(editor: ProblemEditor) -> dict:
    init, key, form = editor.init, editor.key, {}
    with st.container(border=True):
        st.subheader(_("1 · The problem 課題"), anchor=False)
        form["problem"] = st.text_area(
            _("Problem statement"), value=init["problem"], key=key("problem"), height=110,
            placeholder=_("何が問題で、誰が困っているか。What goes wrong today, for whom, and how often?"))
        # The processes offered are fixed texts: shown (and stored back, ``texts.stored``) in the reader's language.
        options = list(dict.fromkeys([*(texts.shown(p, texts.DEFINITION) for p in PROCESSES), *init["processes"]]))
        form["processes"] = st.multiselect(
            _("Process affected"), options, default=init["processes"], key=key("processes"), accept_new_options=True,
            help=_("Choose one or more, or type another."), placeholder=_("Choose options"))
        form["decision"] = st.text_area(
            _("Decision the prediction supports"), value=init["decision"], key=key("decision"), height=80,
            placeholder=_("Who decides what, when, with the prediction? e.g. the store orders tomorrow's stock at "
                          "10:00."))
    return form



def kpi_section(editor: ProblemEditor) -> dict:
    init, key, form = editor.init, editor.key, {}
    with st.container(border=True):
        st.subheader(_("2 · KPI and value KPIと価値"), anchor=False)
        a, b, c, d = st.columns([3, 1.4, 1.2, 1.2])
        form["kpi_name"] = a.text_input("KPI", value=init["kpi_name"], key=key("kpi_name"),
                                        placeholder=_("e.g. 廃棄・欠品ロス率 Waste and stockout loss"))
        form["kpi_unit"] = b.text_input(_("KPI unit"), value=init["kpi_unit"], key=key("kpi_unit"),
                                        placeholder=_("e.g. % of sales"))
        form["kpi_current"] = c.number_input(_("Current value"), value=init["kpi_current"], key=key("kpi_current"),
                                             step=0.1, format="%.2f")
        form["kpi_target"] = d.number_input(_("Target"), value=init["kpi_target"], key=key("kpi_target"), step=0.1,
                                            format="%.2f")
        a, b = st.columns([1, 2])
        form["value_yen_per_year"] = a.number_input(
            _("Value of solving it (¥ per year)"), value=init["value_yen_per_year"], key=key("value_yen_per_year"),
            min_value=0.0, step=1_000_000.0, format="%.0f")
        a.caption(_("= {amount} a year").format(amount=fmt.yen(form["value_yen_per_year"]))
                  if form["value_yen_per_year"] else _("In yen a year."))
        form["value_estimate"] = b.text_area(
            _("How the value was estimated"), value=init["value_estimate"], key=key("value_estimate"), height=100,
            placeholder=_("e.g. yearly sales × points of loss avoided; say where each number comes from."))
        a, b = st.columns(2)
        form["running_cost_yen_per_year"] = a.number_input(
            _("Yearly running cost of the ML system (¥)"), value=init["running_cost_yen_per_year"],
            key=key("running_cost_yen_per_year"), min_value=0.0, step=100_000.0, format="%.0f",
            help=_("Cloud, monitoring, retraining and people: a GO criterion can ask savings to exceed it."))
        form["investment_yen"] = b.number_input(
            _("Initial investment: PoC and build (¥)"), value=init["investment_yen"], key=key("investment_yen"),
            min_value=0.0, step=100_000.0, format="%.0f", help=_("What payback is counted against."))
        a.caption(_("{amount} a year").format(amount=fmt.yen(form["running_cost_yen_per_year"]))
                  if form["running_cost_yen_per_year"] else "")
        b.caption(fmt.yen(form["investment_yen"]) if form["investment_yen"] else "")
    return form


def scope_section(editor: ProblemEditor) -> dict:
    init, key, form = editor.init, editor.key, {}
    with st.container(border=True):
        st.subheader(_("3 · Constraints, data and scope 制約・データ・スコープ"), anchor=False)
        a, b, c = st.columns([2, 2, 1])
        form["people"] = a.text_input(_("People"), value=init["people"], key=key("people"),
                                      placeholder=_("Who works on it, and how much of their time?"))
        form["timeline"] = b.text_input(_("Time"), value=init["timeline"], key=key("timeline"),
                                        placeholder=_("By when must the decision be taken?"))
        form["budget_yen"] = c.number_input(_("Budget (¥)"), value=init["budget_yen"], key=key("budget_yen"),
                                            min_value=0.0, step=100_000.0, format="%.0f")
        c.caption(fmt.yen(form["budget_yen"]) if form["budget_yen"] else "")
        a, b = st.columns(2)
        form["data_sources"] = a.text_area(_("Data sources (one a line)"), value=init["data_sources"],
                                           key=key("data_sources"), height=150)
        names = {d.dataset_id: d.name for d in editor.warehouse.list_datasets()}
        linked = [names[i] for i in editor.project.dataset_ids if i in names]
        a.caption(_("Datasets linked to this project: {datasets} (link more on the Projects page).").format(
            datasets=texts.separator().join(map(md, linked)) if linked else _("none")))
        form["out_of_scope"] = b.text_area(_("What we will not do (one a line)"), value=init["out_of_scope"],
                                           key=key("out_of_scope"), height=150,
                                           help=_("Deciding what not to do is part of the problem definition."))
    return form


def needs_ml_section(editor: ProblemEditor) -> dict:
    with st.container(border=True):
        st.subheader(_("4 · Does this need ML? 機械学習は必要か"), anchor=False)
        st.caption(_("Tick what holds. Where a rule would do, use the rule: it is cheaper to run, explain and "
                     "maintain."))
        ticked = [item for item, statement in needs_ml.CHECKLIST
                  if st.checkbox(_(statement), value=item in editor.init["checklist"],
                                 key=editor.key(f"check_{item}"))]
        verdict = needs_ml.verdict(ticked)
        show = {needs_ml.ML: st.success, needs_ml.RULE: st.warning, needs_ml.NOT_READY: st.info}[verdict.kind]
        show(f"**{verdict.headline}** " + " ".join(verdict.reasons), icon=":material/rule:")
    return {"checklist": ticked}


def evaluation_section(editor: ProblemEditor) -> tuple[dict, DeltaGenerator]:
    """The evaluation plan, and the slot where the offline threshold is shown once the
    criteria below are read."""
    init, key, form = editor.init, editor.key, {}
    metrics = list(OFFLINE_METRICS)  # the pilot's measures are named in the criteria, not here
    with st.container(border=True):
        st.subheader(_("5 · Evaluation plan 評価計画"), anchor=False)
        a, b = st.columns([1, 3])
        form["offline_metric"] = a.selectbox(
            _("Offline metric"), metrics,
            index=metrics.index(init["offline_metric"]) if init["offline_metric"] in metrics else 0,
            format_func={m: METRICS[m].label for m in metrics}.get, key=key("offline_metric"))
        form["offline_method"] = b.text_area(
            _("Offline evaluation: how"), value=init["offline_method"], key=key("offline_method"), height=80,
            placeholder=_("e.g. rolling-origin backtest, 3 folds of 28 days — never a random split."))
        threshold_slot = st.container()
        form["online_plan"] = st.text_area(
            _("Online evaluation: how"), value=init["online_plan"], key=key("online_plan"), height=80,
            placeholder=_("e.g. two pilot stores for four weeks against the others."))
    return form, threshold_slot


def criteria_section(editor: ProblemEditor) -> dict:
    with st.container(border=True):
        st.subheader(_("6 · GO/NO-GO criteria GO/NO-GO基準"), anchor=False)
        st.caption(_("Each criterion is a metric, a comparator, a threshold and, when relative, a baseline. 'Improves "
                     "by at least' takes a % (10 = 10 % better). ≤ ≥ take the metric's unit (WAPE in %, money in ¥, "
                     "payback in months) — or, with a baseline, a multiple of it (1 = equal). Metrics marked (pilot) "
                     "are measured online by the pilot in a few stores, e.g. the 95% lower bound of online savings > "
                     "¥0: until it is read out they are not yet evaluated, and the verdict is at most a conditional "
                     "GO. The GO/NO-GO report evaluates them."))
        heads = st.columns(CRITERION_WIDTHS)
        for slot, title in zip(heads, HEADS, strict=False):
            slot.markdown(f"**{_(title)}**")
        rows = [criterion_row(editor, row, number) for number, row in enumerate(editor.state.rows, start=1)]
        st.button(_("Add a criterion"), on_click=editor.add_row, icon=":material/add:",
                  key=editor.key("add_criterion"))
    return {"criteria": rows}


HEADS = (N_("Metric"), N_("Comparator"), N_("Threshold"), N_("Baseline"), N_("Note"))


def criterion_row(editor: ProblemEditor, row: int, number: int) -> dict:
    """One criterion's widgets, then how it reads (or what is wrong with it)."""
    init, key = editor.init, editor.key
    start = init["criteria"][row] if row < len(init["criteria"]) else BLANK_CRITERION
    cols = st.columns(CRITERION_WIDTHS, vertical_alignment="center")
    metric_options = ["", *METRICS]
    # Options worded now, in the reader's language: a format_func is also called outside the script run.
    metric_names = {"": _("— choose —"), **{m: spec.label for m, spec in METRICS.items()}}
    baseline_names = {None: _("no baseline"), **dict(BASELINE_NAMES.items())}
    comparators = dict(COMPARATORS.items())
    values = {
        "metric": cols[0].selectbox(
            _("Criterion {n} metric").format(n=row + 1), metric_options,
            index=metric_options.index(start["metric"]) if start["metric"] in metric_options else 0,
            format_func=metric_names.get, key=key(f"c{row}_metric"),
            label_visibility="collapsed"),
        "comparator": cols[1].selectbox(
            _("Criterion {n} comparator").format(n=row + 1), list(COMPARATORS),
            index=list(COMPARATORS).index(start["comparator"]) if start["comparator"] in COMPARATORS else 0,
            format_func=comparators.get, key=key(f"c{row}_comparator"), label_visibility="collapsed"),
        "threshold": cols[2].number_input(
            _("Criterion {n} threshold").format(n=row + 1), value=start["threshold"], key=key(f"c{row}_threshold"),
            step=1.0, format="%g", label_visibility="collapsed"),
        "baseline": cols[3].selectbox(
            _("Criterion {n} baseline").format(n=row + 1), [None, *BASELINE_NAMES],
            index=[None, *BASELINE_NAMES].index(start["baseline"]) if start["baseline"] in BASELINE_NAMES else 0,
            format_func=baseline_names.get,
            key=key(f"c{row}_baseline"),
            label_visibility="collapsed"),
        "description": cols[4].text_input(
            _("Criterion {n} note").format(n=row + 1), value=start["description"], key=key(f"c{row}_description"),
            placeholder=_("Why this threshold (optional)"), label_visibility="collapsed"),
    }
    cols[5].button("", key=key(f"c{row}_remove"), on_click=editor.remove_row, args=(row,), icon=":material/delete:",
                   help=_("Remove this criterion"))
    if values["metric"] or values["threshold"] is not None:
        try:
            criterion = row_to_criterion(values)
            reads = ":material/check: " + _("{n}. Reads: **{criterion}**").format(n=number,
                                                                                  criterion=criterion.describe())
            if criterion.spec.online:
                reads += _(" — measured by the pilot: {how}").format(how=md(criterion.spec.help))
            st.caption(reads)
        except MitoshiError as error:
            unit = threshold_unit(values["metric"], values["comparator"], values["baseline"])[1]
            st.caption(f":red[:material/error: {number}. {md(error)}]"
                       + (_(" (threshold in {unit})").format(unit=unit) if unit else ""))
    return values


def offline_threshold(form: dict) -> None:
    """The criteria on the offline metric are its threshold; without one, say so."""
    try:
        on_metric = [row_to_criterion(r).describe() for r in form["criteria"] if r["metric"] == form["offline_metric"]]
    except MitoshiError:
        on_metric = []
    if on_metric:
        st.markdown(_("**Offline threshold** (from the GO/NO-GO criteria): {criteria}.").format(
            criteria=pgettext("criteria separator", "; ").join(on_metric)))
    else:
        st.warning(_("No GO/NO-GO criterion uses {metric} yet: add one in section 6 — it is the offline threshold.")
                   .format(metric=METRICS[form["offline_metric"]].label), icon=":material/flag:")


# ---------------------------------------------------------------------------------
# Saving, the status at the top, and the history
# ---------------------------------------------------------------------------------
def save_bar(editor: ProblemEditor, form: dict) -> None:
    """The note and the save button; a refused save is explained beside the button."""
    a, b = st.columns([3, 1], vertical_alignment="bottom")
    note = a.text_input(_("What changed (optional, kept in the history)"), key=editor.key("note"),
                        placeholder=_("e.g. KPI target agreed with store operations"))
    clicked = b.button(_("Save version {version}").format(version=editor.latest_no + 1), type="primary",
                       icon=":material/save:",
                       key=editor.key("save"), disabled=not editor.is_dirty(form) and editor.latest_no > 0,
                       width="stretch")
    if not clicked:
        return
    problem = editor.save(form, editor.state.base, note)
    if problem is None:
        st.rerun()
    if editor.conflict:
        conflict_panel(editor, editor.conflict, "bottom")
    else:
        st.error(problem, icon=":material/error:")


def status_block(editor: ProblemEditor, form: dict) -> None:
    """Which version is in the form, whether it has unsaved changes, and how ready it is."""
    try:
        current = from_form(form)
    except InvalidInputError:
        current = editor.latest.definition if editor.latest else ProblemDefinition()
    items = readiness(current)
    done = sum(i.done for i in items)
    saved_text = (_("Version {base} of {latest}, saved {when}").format(
        base=editor.state.base, latest=editor.latest_no, when=when(editor.latest.saved_at))
                  if editor.latest else _("No version saved yet"))
    change_text = (_(" · **unsaved changes**, kept as a draft — *Save version* at the bottom makes them a version")
                   if editor.is_dirty(form) else _(" · no unsaved changes"))
    st.markdown(saved_text + change_text)
    st.progress(done / len(items), text=_("Ready for the PoC: {done} of {total} parts").format(done=done,
                                                                                                 total=len(items)))
    missing = [i for i in items if not i.done]
    if missing:
        with st.expander(_("What is still missing ({n})").format(n=len(missing)), icon=":material/checklist:"):
            st.markdown("\n".join(f"- **{i.label}** — {i.hint}" for i in missing))


HISTORY_HEADS = (N_("version"), N_("saved"), N_("note"), N_("what changed"))


def version_history(editor: ProblemEditor) -> None:
    """Every saved version with what it changed; one can be shown in full or loaded."""
    history = planning.definition_history(editor.warehouse, editor.pid)
    st.subheader(_("Version history"), anchor=False)
    if not history:
        st.caption(_("No version yet: the first save makes version 1."))
        return
    previous = {v.version: (history[i - 1].definition if i else None) for i, v in enumerate(history)}
    heads = {name: _(name) for name in HISTORY_HEADS}
    table(pd.DataFrame([{
        heads["version"]: v.version, heads["saved"]: v.saved_at, heads["note"]: v.note,
        heads["what changed"]: texts.listed(c.label for c in diff(previous[v.version], v.definition)) or _("nothing"),
    } for v in reversed(history)]), column_config={
        heads["version"]: st.column_config.NumberColumn(format="%d"),
        heads["saved"]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        heads["what changed"]: st.column_config.TextColumn(width="large")})
    versions = [v.version for v in reversed(history)]
    a, b = st.columns([1, 3], vertical_alignment="bottom")
    chosen = a.selectbox(_("Show the changes of version"), versions,
                         key=f"pd_history_{editor.pid}_{editor.latest_no}")
    b.button(_("Load version {version} into the form").format(version=chosen), on_click=editor.load_version,
             args=(chosen,), icon=":material/history:", disabled=chosen == editor.latest_no,
             help=_("Brings an older version back; saving it makes a new version."))
    picked = next(v for v in history if v.version == chosen)
    changes = diff(previous[chosen], picked.definition)
    if previous[chosen] is None:
        st.caption(_("Version {version} is the first: {n} parts were written.").format(version=chosen,
                                                                                      n=len(changes)))
        return
    if not changes:
        st.caption(_("No field changed in this version."))
    for change in changes:
        with st.container(border=True):
            st.markdown(f"**{change.label}**")
            before, after = st.columns(2)
            before.markdown(":gray[" + _("Before") + "]  \n" + md(change.before))
            after.markdown(":gray[" + _("After") + "]  \n" + md(change.after))
