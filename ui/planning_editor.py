"""The problem definition editor of one session: which version the form started from,
the session's draft, and the actions of the page's buttons.

Kept apart from the rendering (ui/planning_form.py) so that the page reads like a table
of contents. Every button's callback is a method of the editor built on the run that
drew the button, so it acts on what that run showed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import streamlit as st

from core.errors import MitoshiError
from core.i18n import M_
from core.i18n import gettext as _
from core.i18n import language
from core.planning import store as planning
from core.planning.definition import LABELS, ProblemDefinition, from_form, to_form
from core.planning.errors import ConflictError, InvalidInputError, conflict_rows, when
from core.text import md
from core.warehouse import Warehouse


def empty_form() -> dict:
    return to_form(ProblemDefinition())


def _new_draft_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class EditorState:
    """What the editor keeps in the session between runs. ``init`` (the form's initial
    values) stays fixed until the next load, so that widgets keep what is typed; a load
    bumps ``token``, which gives every widget a fresh key."""

    base: int
    token: int = 0
    draft_id: str = field(default_factory=_new_draft_id)
    init: dict = field(default_factory=empty_form)
    rows: list[int] = field(default_factory=list)  # ids of the criterion rows shown
    next_row: int = 0
    last_draft: dict | None = None  # the form as last written to the draft
    loaded: bool = False  # set by a load in a callback: the next run must not load again


@dataclass(frozen=True)
class Conflict:
    """A save refused because someone saved the same field meanwhile; the text is kept."""

    message: str
    rows: list[dict]
    form: dict


class ProblemEditor:
    """The problem definition of one project as this session edits it."""

    def __init__(self, warehouse: Warehouse, project: planning.Project) -> None:
        self.warehouse = warehouse
        self.project = project
        self.pid = project.project_id
        self.latest = planning.latest_definition(warehouse, self.pid)
        self.latest_no = self.latest.version if self.latest else 0
        self._state_key = f"pd_editor_{self.pid}"
        self._conflict_key = f"pd_conflict_{self.pid}"
        self._flash_key = f"pd_flash_{self.pid}"  # also written by the Effort / impact page
        if self._state_key not in st.session_state:
            st.session_state[self._state_key] = EditorState(base=self.latest_no)
        self.state: EditorState = st.session_state[self._state_key]
        self.drafts = planning.list_drafts(warehouse, self.pid)
        self._open_once()
        self.base_form = self.version_form(self.state.base)
        self.init = self.state.init

    def _open_once(self) -> None:
        """First view in this session, or back from another page: the session's own
        draft if it has one, else the latest version."""
        if self.key("problem") not in st.session_state and not self.state.loaded:
            own = next((d for d in self.drafts if d.draft_id == self.state.draft_id), None)
            if own is not None:
                self.load(own.form, own.base_version, own.draft_id)
            else:
                self.load(self.version_form(self.latest_no), self.latest_no)
        self.state.loaded = False

    # ---- reading -------------------------------------------------------------------
    def key(self, name: str) -> str:
        """The widget key of a form field, fresh after every load and in each language (a
        switch of language shows the form anew in it; what was typed comes back from the
        session's draft)."""
        return f"pd.{self.pid}.{self.state.token}.{language()}.{name}"

    def version_form(self, version: int) -> dict:
        if not version:
            return empty_form()
        if self.latest and version == self.latest.version:
            return to_form(self.latest.definition)
        return to_form(planning.definition_version(self.warehouse, self.pid, version).definition)

    def is_dirty(self, form: dict) -> bool:
        return form != self.base_form

    @property
    def conflict(self) -> Conflict | None:
        return st.session_state.get(self._conflict_key)

    def take_flash(self) -> str | tuple[str, str] | None:
        """The outcome of the last action, once: Markdown (what users typed in it
        escaped), or ("error", Markdown)."""
        return st.session_state.pop(self._flash_key, None)

    def other_drafts(self) -> list[planning.Draft]:
        """Drafts of other tabs or earlier visits that still hold something to recover;
        those already saved as the latest version are deleted."""
        latest_form = self.version_form(self.latest_no)
        others = []
        for draft in self.drafts:
            if draft.draft_id == self.state.draft_id:
                continue
            if draft.form == latest_form:
                planning.delete_draft(self.warehouse, draft.draft_id)
                continue
            others.append(draft)
        return others

    def draft_changes(self, draft: planning.Draft) -> list[str]:
        """Labels of the fields a draft changed from the version it was made on."""
        start = self.version_form(draft.base_version) if draft.base_version <= self.latest_no else empty_form()
        return [LABELS[f] for f in LABELS if draft.form.get(f) != start.get(f)]

    # ---- loading -------------------------------------------------------------------
    def load(self, form: dict, base: int, draft_id: str | None = None) -> None:
        """Show ``form`` in fresh widgets, as an edit of version ``base``."""
        form = {**empty_form(), **form}  # a draft written by an older version of the page may lack a field
        state = self.state
        state.token += 1
        state.base = base
        state.init = form
        state.draft_id = draft_id or _new_draft_id()
        state.rows = list(range(len(form["criteria"])))
        state.next_row = len(form["criteria"])
        state.last_draft = form if draft_id else None
        state.loaded = True

    def load_latest(self) -> None:
        self.dismiss_conflict()
        newest = planning.latest_definition(self.warehouse, self.pid)  # read now: the page may be stale
        self.load(to_form(newest.definition) if newest else empty_form(), newest.version if newest else 0)

    def load_version(self, version: int) -> None:
        self.load(self.version_form(version), self.latest_no)
        st.session_state[self._flash_key] = _(
            "Version {version} is in the form. Save it to make it the current definition (version {next}); version "
            "{latest} stays in the history.").format(version=version, next=self.latest_no + 1, latest=self.latest_no)

    def restore_draft(self, draft: planning.Draft) -> None:
        self.load(draft.form, draft.base_version, draft.draft_id)
        st.session_state[self._flash_key] = _("Restored the unsaved changes from {when}.").format(
            when=when(draft.updated_at))

    def discard_draft(self, draft_id: str) -> None:
        planning.delete_draft(self.warehouse, draft_id)

    # ---- criterion rows ------------------------------------------------------------
    def add_row(self) -> None:
        self.state.rows.append(self.state.next_row)
        self.state.next_row += 1

    def remove_row(self, row: int) -> None:
        self.state.rows.remove(row)

    # ---- saving --------------------------------------------------------------------
    def save(self, form: dict, base: int, note: object) -> str | None:
        """Save the form as the next version. On success the outcome is flashed on the
        next run and None returned; otherwise the reason as Markdown, to show beside the
        button pressed (a conflict is also kept for the panel at the top)."""
        try:
            saved = planning.save_definition(self.warehouse, self.pid, from_form(form), base, note)
        except ConflictError as error:
            st.session_state[self._conflict_key] = Conflict(str(error), conflict_rows(error), form)
            return md(error)
        except InvalidInputError as error:
            return _("The problem definition was not saved:") + "\n\n" + "\n".join(f"- {md(p)}" for p in error.problems)
        except MitoshiError as error:
            return md(error)
        self.dismiss_conflict()
        planning.delete_draft(self.warehouse, self.state.draft_id)
        self.load(to_form(saved.version.definition), saved.version.version)
        version = saved.version.version
        if saved.unchanged:
            message = _("Nothing changed since version {version}; no new version was made.").format(version=version)
        elif saved.merged_with:
            message = _("Saved version {version}. Someone had saved version {other} meanwhile; their changes to other "
                        "fields were kept.").format(version=version, other=saved.merged_with)
        else:
            message = _("Saved version {version}.").format(version=version)
        st.session_state[self._flash_key] = message
        return None

    def save_mine_over_theirs(self) -> None:
        """'Save mine over theirs': the kept text, on top of the latest version."""
        newest = planning.latest_definition(self.warehouse, self.pid)
        problem = self.save(self.conflict.form, newest.version if newest else 0, M_("Replaced after a conflict"))
        if problem:
            st.session_state[self._flash_key] = ("error", problem)

    def dismiss_conflict(self) -> None:
        st.session_state.pop(self._conflict_key, None)

    def keep_draft(self, form: dict) -> None:
        """Keep what is typed: the session's draft follows the form; none when nothing differs."""
        dirty = self.is_dirty(form)
        if dirty and form != self.state.last_draft:
            planning.save_draft(self.warehouse, self.state.draft_id, self.pid, self.state.base, form)
            self.state.last_draft = form
        elif not dirty and self.state.last_draft is not None:
            planning.delete_draft(self.warehouse, self.state.draft_id)
            self.state.last_draft = None
