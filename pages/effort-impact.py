"""Effort / impact: candidate ML initiatives edited in a table, scored (RICE, ICE),
placed on the talk's 2×2 and ranked; the chosen one becomes the problem in one step."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.errors import MitoshiError
from core.i18n import M_
from core.i18n import gettext as _
from core.i18n import language, pgettext
from core.planning import store as planning
from core.planning import texts
from core.planning.charts import effort_impact_map
from core.planning.definition import ProblemDefinition
from core.planning.errors import ConflictError, conflict_rows
from core.planning.initiatives import (
    EDIT_COLUMNS,
    Quadrant,
    Thresholds,
    editor_changes,
    editor_frame,
    recommendation,
    score_table,
    to_definition,
)
from core.plotting import yen_tick
from core.text import md
from ui.navigation import stay_in_app
from ui.reports import report_block
from ui.state import get_warehouse, project_picker, saved_conflict, show_error, table

stay_in_app()

EFFORT_STOPS = (1, 2, 3, 4, 6, 8, 10, 13, 16, 20, 26, 39, 52, 78, 104)
IMPACT_STOPS = (1e6, 2e6, 3e6, 5e6, 1e7, 1.5e7, 2e7, 3e7, 5e7, 7.5e7, 1e8, 2e8, 5e8, 1e9)

st.title(_("Effort / impact"))
st.caption(_("Effort is not value. Put every candidate initiative on effort against impact, and start where effort "
             "is little and impact large. Edit the table: each change is saved at once and moves the map."))

warehouse = get_warehouse()
project = project_picker(warehouse)
if project is None:
    st.stop()
pid = project.project_id
EDITOR, CONFLICT, FLASH = f"ei_editor_{pid}", f"ei_conflict_{pid}", f"ei_flash_{pid}"

flash = st.session_state.pop(FLASH, None)
if flash:
    st.success(md(flash), icon=":material/check_circle:")
saved_conflict(CONFLICT, "table", "ei_dismiss")

stored = planning.list_initiatives(warehouse, pid)
current = {s.key: s for s in stored}

# The table is drawn from a snapshot of the rows (with their revisions) so that the
# editor's pending edits stay aligned; it is refreshed after each save, on a new
# visit, and whenever someone else saved while nothing is pending here.
state = st.session_state.setdefault(EDITOR, {"token": 0, "opened": None})
editor_key = f"ei_table_{pid}_{state['token']}_{language()}"
pending = st.session_state.get(editor_key) or {}
nothing_pending = not any(pending.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))
if state["opened"] is None or editor_key not in st.session_state or (nothing_pending and state["opened"] != current):
    if state["opened"] is not None and editor_key in st.session_state:
        state["token"] += 1
        editor_key = f"ei_table_{pid}_{state['token']}_{language()}"
    state["opened"] = current
opened: dict[str, planning.Stored] = state["opened"]


def add_examples() -> None:
    try:
        added = planning.add_example_initiatives(warehouse, pid)
        st.session_state[FLASH] = _("Added {n} initiatives from the talk's list.").format(n=added)
    except MitoshiError as error:
        st.session_state[CONFLICT] = {"message": error, "rows": []}


thresholds = project.thresholds
if not stored:
    st.info(_("This project has no candidate initiative yet. Add rows to the table (the + under it), or start from "
              "the talk's list for a retail chain."), icon=":material/lightbulb:")
    st.button(_("Add the talk's 8 retail initiatives"), on_click=add_examples, icon=":material/playlist_add:")

items = [(k, s.item) for k, s in opened.items()]
# The table's text columns are named in the reader's language (they are its data's names),
# and named back for reading the edits.
SHOWN = {"name": _("name"), "description": _("description")}
frame = editor_frame(items).rename(columns=SHOWN)
st.subheader(_("Candidate initiatives"), anchor=False)
edited = st.data_editor(
    frame, key=editor_key, num_rows="dynamic", hide_index=True, width="stretch",
    column_order=[SHOWN.get(c, c) for c in EDIT_COLUMNS],
    column_config={
        SHOWN["name"]: st.column_config.TextColumn(_("Initiative"), required=True, width=200, max_chars=120),
        SHOWN["description"]: st.column_config.TextColumn(_("Description"), width=160),
        "effort_weeks": st.column_config.NumberColumn(_("Effort (person-weeks)"), min_value=0.5, max_value=1000,
                                                      step=0.5, format="%.1f", required=True, width=155),
        "impact_yen": st.column_config.NumberColumn(_("Impact (¥ per year)"), min_value=0, step=100_000,
                                                    format="yen", required=True, width=140,
                                                    help=_("Yearly value at full scale, in yen.")),
        "confidence_pct": st.column_config.NumberColumn(_("Confidence (%)"), min_value=0, max_value=100, step=5,
                                                        default=50, format="%d%%", width=120,
                                                        help=_("How sure you are of the impact estimate.")),
        "reach_pct": st.column_config.NumberColumn(_("Reach (%)"), min_value=0, max_value=100, step=5, default=100,
                                                   format="%d%%", width=90,
                                                   help=_("Share of the chain (stores × items) reached in the first "
                                                          "year.")),
    },
)

changes = editor_changes({k: s.item for k, s in opened.items()},
                         edited.rename(columns={shown: name for name, shown in SHOWN.items()}))
for line in changes.waiting:
    st.info(_("{row} Edits to other rows are saved together with it, or delete the row.").format(row=md(line)),
            icon=":material/pending:")
for line in changes.problems:
    st.error(md(line), icon=":material/error:")
if changes.any and not changes.waiting and not changes.problems:
    try:
        planning.apply_initiative_changes(warehouse, pid, opened, changes)
        parts = ([_("added {names}").format(names=texts.listed(i.name for i in changes.added))]
                 if changes.added else []) + \
                ([_("updated {names}").format(names=texts.listed(i.name for _key, i in changes.updated))]
                 if changes.updated else []) + \
                ([_("deleted {names}").format(names=texts.listed(opened[k].item.name for k in changes.deleted))]
                 if changes.deleted else [])
        st.session_state[FLASH] = _("Saved: {changes}.").format(changes=pgettext("changes separator", "; ").join(parts))
        st.session_state.pop(CONFLICT, None)
    except ConflictError as error:
        st.session_state[CONFLICT] = {"message": error, "rows": conflict_rows(error)}
    except MitoshiError as error:
        st.session_state[CONFLICT] = {"message": error, "rows": []}
    state["token"] += 1  # a fresh table on the saved (or their) rows
    state["opened"] = None
    st.rerun()

st.subheader(_("The map"), anchor=False)


def _stops(stops: tuple[float, ...], value: float) -> list[float]:
    return sorted({*stops, value})


a, b = st.columns(2)
efforts, impacts = _stops(EFFORT_STOPS, thresholds.effort_weeks), _stops(IMPACT_STOPS, thresholds.impact_yen)
# Stops worded now, in the reader's language: a format_func is also called outside the script run.
effort_split = a.select_slider(
    _("Little effort means at most (person-weeks)"), efforts, value=thresholds.effort_weeks,
    format_func={v: fmt.trimmed(v, 1) for v in efforts}.get, key=f"ei_effort_{pid}")
impact_split = b.select_slider(
    _("Large impact means at least (¥ per year)"), impacts, value=thresholds.impact_yen,
    format_func={v: yen_tick(v) if language() == "ja" else fmt.yen(v) for v in impacts}.get,  # 1億円, not 1.00億円
    key=f"ei_impact_{pid}")
if (effort_split, impact_split) != (thresholds.effort_weeks, thresholds.impact_yen):
    thresholds = Thresholds(float(effort_split), float(impact_split))
    planning.set_thresholds(warehouse, pid, thresholds)

scores = score_table([(s.key, s.item) for s in planning.list_initiatives(warehouse, pid)], thresholds)
if scores.empty:
    st.caption(_("The map appears when the project has initiatives."))
    st.stop()
st.plotly_chart(effort_impact_map(scores, thresholds), width="stretch", key=f"ei_map_{pid}")
st.caption(_("Marker size is reach. Both axes are logarithmic: each step is ten times more. Move the thresholds to "
             "redraw the quadrants; they are saved with the project."))

st.subheader(_("Where to start"), anchor=False)
st.caption(_("Ranked by quadrant — aim here, then low-risk starting points, then wait, then are you sure — and by "
             "RICE within a quadrant. RICE = impact × reach × confidence ÷ effort: expected first-year yen per "
             "person-week. ICE = impact × confidence × ease, each scored 1–10 (impact ¥1M → 1, ¥1B → 10; ease 1 "
             "person-week → 10, 100 → 1)."))
st.markdown("\n".join(f"- {line}" for line in recommendation(scores)))
# The ranking's columns and quadrants in the reader's language.
HEADS = {"rank": _("rank"), "name": _("name"), "quadrant": _("quadrant")}
ranked = scores[["rank", "name", "quadrant", "effort_weeks", "impact_yen", "rice", "ice"]].assign(
    quadrant=lambda t: t["quadrant"].map(lambda q: Quadrant(q).label)).rename(columns=HEADS)
table(ranked, column_config={
    HEADS["rank"]: st.column_config.NumberColumn(_("rank"), format="%d", width=50),
    HEADS["name"]: st.column_config.TextColumn(_("initiative"), width=260),
    HEADS["quadrant"]: st.column_config.TextColumn(_("quadrant"), width=170),
    "effort_weeks": st.column_config.NumberColumn(_("person-weeks"), format="%.1f"),
    "impact_yen": st.column_config.NumberColumn(_("¥ per year"), format="yen"),
    "rice": st.column_config.NumberColumn(_("RICE (¥/person-week)"), format="yen"),
    "ice": st.column_config.NumberColumn("ICE", format="%.0f"),
})

st.subheader(_("Make one the project's problem"), anchor=False)
latest = planning.latest_definition(warehouse, pid)
names = dict(zip(scores["key"], scores["name"], strict=True))
a, b = st.columns([2, 1], vertical_alignment="bottom")
choice = a.selectbox(_("Initiative"), list(names), format_func=names.get, key=f"ei_choice_{pid}",
                     help=_("In the order of the ranking above."))
go = b.button(_("Make it the problem definition"), type="primary", icon=":material/assignment_turned_in:",
              key=f"ei_to_problem_{pid}")
st.caption(_("Writes version {version} of the problem definition with this initiative's name and description as the "
             "problem and its impact as the value; the rest of the definition stays, and the history keeps the "
             "previous version.").format(version=(latest.version if latest else 0) + 1))
if go:
    chosen = next(s.item for s in planning.list_initiatives(warehouse, pid) if s.key == choice)
    base = latest.definition if latest else ProblemDefinition()
    try:
        planning.save_definition(warehouse, pid, to_definition(base, chosen), latest.version if latest else 0,
                                 M_("From the initiative '{name}'", name=texts.fact(chosen.name, texts.INITIATIVE)))
        st.session_state[f"pd_flash_{pid}"] = _("'{name}' is now the problem: review the rest of the definition and "
                                                "save.").format(name=md(chosen.name))
        st.switch_page("pages/problem.py")
    except MitoshiError as error:
        show_error(error)
quadrant_names = texts.separator().join(
    _("*{name}* ({meaning})").format(name=q.label, meaning=q.meaning) for q in Quadrant)
st.caption(_("Quadrants: {quadrants}.").format(quadrants=quadrant_names))

report_block("effort-impact", pid, key="effort-impact", title=_("The report for choosing where to start"),
             caption=_("The map, the ranking with its RICE and ICE scores, and the initiative chosen to start with — "
                       "the one last made the problem definition above — on A4, dated and numbered, for the meeting "
                       "that chooses."))
