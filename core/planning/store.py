"""Planning documents in the warehouse: projects, problem-definition versions and
drafts, initiatives, PoC phases and ladder steps (tables of migration 4).

Every write is one transaction, so a failed save leaves the warehouse as it was.
Saves are optimistic: the caller says which revision (or definition version) it
opened; when someone saved since, fields only one of them changed are merged and a
field both changed raises ``ConflictError`` with the caller's values — nothing is
ever overwritten silently. Checks and writes run inside the warehouse's write lock,
so two sessions cannot interleave between a check and its write.

What the readers return is in the reader's language: the product's fixed texts (the
example project, the default ladder) translated while untouched, sentences kept as facts
rendered (``texts``). The writers take what the pages show, in either language, and
store the originals and facts again; checks and merges compare stored values.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import Generic, TypeVar

import duckdb

from core import fmt
from core.i18n import M_, N_, Msg, from_json, render, to_json
from core.planning import example, texts
from core.planning.criteria import criteria_to_json
from core.planning.definition import (
    LABELS,
    ProblemDefinition,
    content_to_json,
    definition_from_json,
    display,
    form_facts,
    form_shown,
    merge,
    shown_definition,
    stored_definition,
)
from core.planning.errors import ConflictError, InvalidInputError, ProjectExistsError, ProjectNotFoundError
from core.planning.initiatives import EditorChanges, Initiative, Thresholds
from core.planning.merge import three_way_merge
from core.planning.plan import (
    FIELD_LABELS,
    LADDER_NAMES,
    PHASE_NAMES,
    LadderStep,
    Phase,
    PhaseStatus,
    StepStatus,
    default_ladder,
    default_phases,
)
from core.warehouse.store import Warehouse

T = TypeVar("T")
LAST_PROJECT, EXAMPLE_OFFERED = "last_project", "example_offered"
DATASET, RUN = "dataset", "run"
MAX_NAME = 120


def _now() -> datetime:
    return datetime.now()


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[dict]:
    result = cur.execute(sql, list(params))
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _read(warehouse: Warehouse, sql: str, params: Sequence = ()) -> list[dict]:
    with warehouse.cursor() as cur:
        return _rows(cur, sql, params)


@dataclass(frozen=True)
class Stored(Generic[T]):
    """A row as it was read: what a later save names as the revision it started from."""

    key: str
    revision: int
    updated_at: datetime
    item: T


@dataclass(frozen=True)
class Saved:
    revision: int
    merged: bool  # someone else's changes to other fields were kept alongside


# ---------------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Project:
    project_id: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    revision: int
    thresholds: Thresholds
    dataset_ids: tuple[str, ...]
    run_ids: tuple[str, ...]

    def fields(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "dataset_ids": self.dataset_ids,
                "run_ids": self.run_ids}


_PROJECT_LABELS = {"name": N_("the name"), "description": N_("the description"),
                   "dataset_ids": N_("the linked datasets"), "run_ids": N_("the linked runs")}


def _clean_name(name: str) -> str:
    name = str(texts.stored((name or "").strip(), texts.PROJECT))
    if not name:
        raise InvalidInputError(M_("The project"), [M_("Give it a name.")])
    if len(name) > MAX_NAME:
        raise InvalidInputError(M_("The project"), [M_("Keep its name under {limit} characters.", limit=MAX_NAME)])
    return name


def _check_unique(cur: duckdb.DuckDBPyConnection, name: str, project_id: str | None = None) -> None:
    taken = _rows(cur, "SELECT project_id FROM projects WHERE lower(name) = lower(?)", [name])
    if any(row["project_id"] != project_id for row in taken):
        raise ProjectExistsError(M_("A project called '{name}' already exists; choose another name.",
                                    name=texts.fact(name, texts.PROJECT)))


def _shown_project(project: Project) -> Project:
    return replace(project, name=texts.shown(project.name, texts.PROJECT),
                   description=texts.shown(project.description, texts.PROJECT))


def list_projects(warehouse: Warehouse) -> list[Project]:
    ids = [r["project_id"] for r in _read(warehouse, "SELECT project_id FROM projects ORDER BY created_at, name")]
    return [get_project(warehouse, i) for i in ids]


def find_project(warehouse: Warehouse, text: str) -> Project:
    """The project with id ``text``, or named ``text`` (case-insensitive), or the one project
    whose name starts with it, as the command lines take a project (``core.pilot``,
    ``core.reports``). Raises ``ProjectNotFoundError`` naming the projects otherwise."""
    ensure_example_project(warehouse)  # as the app does on a warehouse's first visit: the AI Shop example
    projects = list_projects(warehouse)
    wanted = text.strip().lower()
    for project in projects:
        if text.strip() == project.project_id or project.name.lower() == wanted:
            return project
    starting = [p for p in projects if p.name.lower().startswith(wanted)]
    if len(starting) == 1:
        return starting[0]
    names = ", ".join(f"'{p.name}'" for p in projects) or "none yet"
    raise ProjectNotFoundError(M_("No project named '{text}' (projects: {names}). Give a project's name or id.",
                                  text=text, names=names))


def get_project(warehouse: Warehouse, project_id: str) -> Project:
    """The project, its name and description in the reader's language."""
    with warehouse.cursor() as cur:
        return _shown_project(_project(cur, project_id))


def _project(cur: duckdb.DuckDBPyConnection, project_id: str) -> Project:
    """The project as stored."""
    rows = _rows(cur, "SELECT * FROM projects WHERE project_id = ?", [project_id])
    if not rows:
        raise ProjectNotFoundError(M_("No project with id '{project_id}'; it may have been deleted. Choose another "
                                      "project on the Projects page.", project_id=project_id))
    row = rows[0]
    # Links to datasets or runs deleted since are not shown.
    datasets = _rows(cur, """SELECT l.target_id FROM project_links l JOIN datasets d ON d.dataset_id = l.target_id
                             WHERE l.project_id = ? AND l.kind = ? ORDER BY d.name""", [project_id, DATASET])
    runs = _rows(cur, """SELECT l.target_id FROM project_links l JOIN runs r ON r.run_id = l.target_id
                         WHERE l.project_id = ? AND l.kind = ? ORDER BY r.created_at""", [project_id, RUN])
    return Project(
        project_id=row["project_id"], name=row["name"], description=row["description"],
        created_at=row["created_at"], updated_at=row["updated_at"], revision=row["revision"],
        thresholds=Thresholds(row["effort_threshold_weeks"], row["impact_threshold_yen"]),
        dataset_ids=tuple(r["target_id"] for r in datasets), run_ids=tuple(r["target_id"] for r in runs),
    )


def create_project(warehouse: Warehouse, name: str, description: str = "", from_example: bool = False) -> Project:
    """A new project with the talk's phases and ladder; ``from_example`` fills it with
    the AI Shop demand-forecasting example (definition, initiatives, dated plan)."""
    name = _clean_name(name)
    project_id = uuid.uuid4().hex[:12]
    now = _now()
    thresholds = Thresholds()
    with warehouse.transaction() as cur:
        _check_unique(cur, name)
        cur.execute("INSERT INTO projects VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                    [project_id, name, texts.stored((description or "").strip(), texts.PROJECT), now, now,
                     thresholds.effort_weeks, thresholds.impact_yen])
        phases = example.phases(now.date()) if from_example else default_phases()
        steps = example.ladder() if from_example else default_ladder()
        for position, phase in enumerate(phases):
            _insert_phase(cur, project_id, position, phase, now)
        for position, step in enumerate(steps):
            _insert_step(cur, project_id, position, step, now)
        if from_example:
            _insert_version(cur, project_id, 1, example.definition(), M_("AI Shop example"), now)
            _insert_initiatives(cur, project_id, example.initiatives(), now)
            demo = _rows(cur, "SELECT dataset_id FROM datasets WHERE name = ?", [_demo_dataset_name()])
            for row in demo:
                cur.execute("INSERT INTO project_links VALUES (?, ?, ?, ?)",
                            [project_id, DATASET, row["dataset_id"], now])
    return get_project(warehouse, project_id)


def _demo_dataset_name() -> str:
    from core.data.demo import DemoConfig  # the demo generator is heavy to import; only needed here

    return DemoConfig().name


def ensure_example_project(warehouse: Warehouse) -> Project | None:
    """On a warehouse's first visit, add the AI Shop example once (a user who deletes
    it keeps it deleted). Returns the project when it was created now."""
    if _read(warehouse, "SELECT value FROM planning_settings WHERE key = ?", [EXAMPLE_OFFERED]):
        return None
    with warehouse.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO planning_settings VALUES (?, ?)", [EXAMPLE_OFFERED, _now().isoformat()])
        taken = _rows(cur, "SELECT 1 FROM projects WHERE lower(name) = lower(?)", [example.NAME])
    if taken:
        return None
    try:
        return create_project(warehouse, example.NAME, example.DESCRIPTION, from_example=True)
    except ProjectExistsError:  # another session created it between the two transactions
        return None


def update_project(warehouse: Warehouse, opened: Project, name: str, description: str,
                   dataset_ids: Iterable[str], run_ids: Iterable[str]) -> Saved:
    """Save the project's name, description and links, merging with anyone's save since."""
    mine = {"name": _clean_name(name), "description": texts.stored((description or "").strip(), texts.PROJECT),
            "dataset_ids": tuple(sorted(set(dataset_ids))), "run_ids": tuple(sorted(set(run_ids)))}
    base = {**opened.fields(), "name": texts.stored(opened.name, texts.PROJECT),
            "description": texts.stored(opened.description, texts.PROJECT),
            "dataset_ids": tuple(sorted(opened.dataset_ids)), "run_ids": tuple(sorted(opened.run_ids))}
    now = _now()
    with warehouse.transaction() as cur:
        current = _project(cur, opened.project_id)
        theirs = {**current.fields(), "dataset_ids": tuple(sorted(current.dataset_ids)),
                  "run_ids": tuple(sorted(current.run_ids))}
        merged, conflicts = (mine, ()) if current.revision == opened.revision else three_way_merge(base, theirs, mine)
        if conflicts:
            raise ConflictError(M_("this project's name and links"), current.updated_at,
                                [_PROJECT_LABELS[c] for c in conflicts],
                                mine={_PROJECT_LABELS[c]: texts.shown(mine[c], texts.PROJECT) for c in conflicts},
                                theirs={_PROJECT_LABELS[c]: texts.shown(theirs[c], texts.PROJECT) for c in conflicts})
        if merged == theirs:
            return Saved(current.revision, merged=False)
        _check_unique(cur, merged["name"], opened.project_id)
        cur.execute("UPDATE projects SET name = ?, description = ?, updated_at = ?, revision = ? WHERE project_id = ?",
                    [merged["name"], merged["description"], now, current.revision + 1, opened.project_id])
        cur.execute("DELETE FROM project_links WHERE project_id = ?", [opened.project_id])
        for kind, ids in ((DATASET, merged["dataset_ids"]), (RUN, merged["run_ids"])):
            for target in ids:
                cur.execute("INSERT INTO project_links VALUES (?, ?, ?, ?)", [opened.project_id, kind, target, now])
    return Saved(current.revision + 1, merged=current.revision != opened.revision)


def set_thresholds(warehouse: Warehouse, project_id: str, thresholds: Thresholds) -> None:
    """Where the effort/impact map splits: a view setting, the last move wins."""
    with warehouse.transaction() as cur:
        _project(cur, project_id)
        cur.execute("UPDATE projects SET effort_threshold_weeks = ?, impact_threshold_yen = ? WHERE project_id = ?",
                    [thresholds.effort_weeks, thresholds.impact_yen, project_id])


def delete_project(warehouse: Warehouse, project_id: str) -> None:
    with warehouse.transaction() as cur:
        _project(cur, project_id)
        for table in ("problem_versions", "problem_drafts", "initiatives", "plan_phases", "ladder_steps",
                      "project_links", "project_settings", "reports", "projects"):
            cur.execute(f"DELETE FROM {table} WHERE project_id = ?", [project_id])
        cur.execute("DELETE FROM planning_settings WHERE key = ? AND value = ?", [LAST_PROJECT, project_id])


def remember_project(warehouse: Warehouse, project_id: str) -> None:
    """The project opened last, so the next visit starts there."""
    with warehouse.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO planning_settings VALUES (?, ?)", [LAST_PROJECT, project_id])


def last_project_id(warehouse: Warehouse) -> str | None:
    rows = _read(warehouse, "SELECT value FROM planning_settings WHERE key = ?", [LAST_PROJECT])
    return rows[0]["value"] if rows else None


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    version: int
    saved_at: datetime | None
    initiatives: int
    phases_done: int
    phases: int


def project_summaries(warehouse: Warehouse) -> list[ProjectSummary]:
    counts = {r["project_id"]: r for r in _read(warehouse, """
        SELECT p.project_id,
               (SELECT coalesce(max(version), 0) FROM problem_versions v WHERE v.project_id = p.project_id) AS version,
               (SELECT max(saved_at) FROM problem_versions v WHERE v.project_id = p.project_id) AS saved_at,
               (SELECT count(*) FROM initiatives i WHERE i.project_id = p.project_id) AS initiatives,
               (SELECT count(*) FILTER (WHERE status = 'done') FROM plan_phases f WHERE f.project_id = p.project_id)
                   AS phases_done,
               (SELECT count(*) FROM plan_phases f WHERE f.project_id = p.project_id) AS phases
        FROM projects p""")}
    return [ProjectSummary(p, counts[p.project_id]["version"], counts[p.project_id]["saved_at"],
                           counts[p.project_id]["initiatives"], counts[p.project_id]["phases_done"],
                           counts[p.project_id]["phases"]) for p in list_projects(warehouse)]


# ---------------------------------------------------------------------------------
# Problem definition: numbered versions, and drafts of unsaved edits
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DefinitionVersion:
    version: int
    saved_at: datetime
    note: str  # in the reader's language
    definition: ProblemDefinition


@dataclass(frozen=True)
class SavedDefinition:
    version: DefinitionVersion
    merged_with: int | None  # the version saved meanwhile whose changes were merged in
    unchanged: bool  # nothing differed from the latest version: no new version


def _note_to_db(note: object) -> str:
    """A version's note as stored: what the user typed as it is, a note the product wrote
    as facts (JSON)."""
    if isinstance(note, texts.Text):
        note = note.fact
    if isinstance(note, Msg):
        return json.dumps(to_json(note), ensure_ascii=False)
    return str(note or "").strip()


# Notes the product wrote as English sentences before they were kept as facts.
_OLD_NOTES = (
    (re.compile(r"AI Shop example"), lambda m: M_("AI Shop example")),
    (re.compile(r"Replaced after a conflict"), lambda m: M_("Replaced after a conflict")),
    (re.compile(r"From the initiative '(?P<name>.*)'", re.S),
     lambda m: M_("From the initiative '{name}'", name=texts.fact(m["name"], texts.INITIATIVE))),
)
_MERGED = re.compile(r"(?P<note>.*?) ?\(merged with version (?P<version>\d+)\)", re.S)


def _note_fact(text: str | None) -> object:
    """A stored note as facts where the product wrote it (as JSON, or as an English
    sentence in an older warehouse); what the user typed as it is."""
    text = text or ""
    if text.startswith("{"):
        try:
            found = from_json(json.loads(text))
        except ValueError:
            found = None
        if isinstance(found, Msg):
            return found
    merged = _MERGED.fullmatch(text)
    if merged:
        note = _note_fact(merged["note"])
        version = int(merged["version"])
        return (M_("{note} (merged with version {version})", note=note, version=version) if note
                else M_("(merged with version {version})", version=version))
    for pattern, fact in _OLD_NOTES:
        found = pattern.fullmatch(text)
        if found:
            return fact(found)
    return text


def _with_merge(note: object, merged_with: int | None) -> object:
    if not merged_with:
        return note.strip() if isinstance(note, str) and not isinstance(note, texts.Text) else note
    if isinstance(note, texts.Text):
        note = note.fact
    if isinstance(note, str):
        note = note.strip()
    return (M_("{note} (merged with version {version})", note=note, version=merged_with) if note
            else M_("(merged with version {version})", version=merged_with))


def _insert_version(cur: duckdb.DuckDBPyConnection, project_id: str, version: int, definition: ProblemDefinition,
                    note: object, now: datetime) -> None:
    cur.execute("INSERT INTO problem_versions VALUES (?, ?, ?, ?, ?, ?)",
                [project_id, version, now, _note_to_db(note), content_to_json(definition),
                 criteria_to_json(definition.criteria)])


def _version(row: Mapping) -> DefinitionVersion:
    """A version as stored (its texts as originals and facts; its note as facts)."""
    return DefinitionVersion(row["version"], row["saved_at"], _note_fact(row["note"]),
                             definition_from_json(row["content"], row["criteria"]))


def _shown_version(version: DefinitionVersion | None) -> DefinitionVersion | None:
    """A version as the reader reads it."""
    if version is None:
        return None
    return DefinitionVersion(version.version, version.saved_at, render(version.note),
                             shown_definition(version.definition))


def latest_definition(warehouse: Warehouse, project_id: str) -> DefinitionVersion | None:
    """The latest version, in the reader's language (None before the first)."""
    with warehouse.cursor() as cur:
        return _shown_version(_latest(cur, project_id))


def stored_latest_definition(warehouse: Warehouse, project_id: str) -> DefinitionVersion | None:
    """The latest version as stored (texts as originals and facts, in no language; None
    before the first): what a report keeps, to be read later in either language."""
    with warehouse.cursor() as cur:
        return _latest(cur, project_id)


def _latest(cur: duckdb.DuckDBPyConnection, project_id: str) -> DefinitionVersion | None:
    rows = _rows(cur, "SELECT * FROM problem_versions WHERE project_id = ? ORDER BY version DESC LIMIT 1", [project_id])
    return _version(rows[0]) if rows else None


def definition_version(warehouse: Warehouse, project_id: str, version: int) -> DefinitionVersion:
    rows = _read(warehouse, "SELECT * FROM problem_versions WHERE project_id = ? AND version = ?",
                 [project_id, version])
    if not rows:
        raise ProjectNotFoundError(M_("This project has no version {version} of its problem definition.",
                                      version=version))
    return _shown_version(_version(rows[0]))


def definition_history(warehouse: Warehouse, project_id: str) -> list[DefinitionVersion]:
    """Every saved version, oldest first, in the reader's language."""
    rows = _read(warehouse, "SELECT * FROM problem_versions WHERE project_id = ? ORDER BY version", [project_id])
    return [_shown_version(_version(r)) for r in rows]


def save_definition(warehouse: Warehouse, project_id: str, definition: ProblemDefinition, base_version: int,
                    note: object = "") -> SavedDefinition:
    """Save ``definition`` (as read, in either language), edited from version
    ``base_version`` (0: from nothing), as a new version. If someone saved meanwhile,
    their changes to other fields are kept (merge); if both changed a field,
    ``ConflictError`` and nothing is saved. ``note`` is what the user typed, or a
    ``Msg`` the product writes."""
    now = _now()
    with warehouse.transaction() as cur:
        _project(cur, project_id)
        latest = _latest(cur, project_id)
        current = latest.version if latest else 0
        theirs = latest.definition if latest else ProblemDefinition()
        base = theirs
        if base_version != current:
            base = ProblemDefinition()
            if base_version:
                rows = _rows(cur, "SELECT * FROM problem_versions WHERE project_id = ? AND version = ?",
                             [project_id, base_version])
                base = _version(rows[0]).definition if rows else ProblemDefinition()
        definition = stored_definition(definition, base, theirs)
        merged_with = None
        if base_version != current:
            definition, conflicts = merge(base, theirs, definition)
            if conflicts:
                names = {label: name for name, label in LABELS.items()}
                raise ConflictError(
                    M_("this project's problem definition (version {version})", version=current), latest.saved_at,
                    conflicts, mine={c: display(names[c], getattr(definition, names[c])) for c in conflicts},
                    theirs={c: display(names[c], getattr(theirs, names[c])) for c in conflicts})
            merged_with = current
        if latest is not None and definition == theirs:
            return SavedDefinition(_shown_version(latest), merged_with, unchanged=True)
        note = _with_merge(note, merged_with)
        _insert_version(cur, project_id, current + 1, definition, note, now)
        cur.execute("UPDATE projects SET updated_at = ? WHERE project_id = ?", [now, project_id])
    saved = DefinitionVersion(current + 1, now, note, definition)
    return SavedDefinition(_shown_version(saved), merged_with, unchanged=False)


@dataclass(frozen=True)
class Draft:
    """What a user typed into the definition and has not saved as a version yet."""

    draft_id: str
    project_id: str
    base_version: int
    updated_at: datetime
    form: dict


def save_draft(warehouse: Warehouse, draft_id: str, project_id: str, base_version: int, form: Mapping) -> None:
    """Keep what is typed (the form, as shown): texts the product wrote that are still
    untouched are kept as originals and facts, so the draft reads in either language."""
    with warehouse.transaction() as cur:
        rows = _rows(cur, "SELECT * FROM problem_versions WHERE project_id = ? AND version = ?",
                     [project_id, base_version]) if base_version else []
        latest = _latest(cur, project_id)
        stored = form_facts(form, _version(rows[0]).definition if rows else None,
                            latest.definition if latest else None)
        cur.execute("INSERT OR REPLACE INTO problem_drafts VALUES (?, ?, ?, ?, ?)",
                    [draft_id, project_id, base_version, _now(), json.dumps(stored, ensure_ascii=False, default=str)])


def list_drafts(warehouse: Warehouse, project_id: str) -> list[Draft]:
    """Unsaved drafts of the project's definition, newest first, in the reader's language."""
    rows = _read(warehouse, "SELECT * FROM problem_drafts WHERE project_id = ? ORDER BY updated_at DESC, rowid DESC",
                 [project_id])
    return [Draft(r["draft_id"], r["project_id"], r["base_version"], r["updated_at"], form_shown(json.loads(r["form"])))
            for r in rows]


def delete_draft(warehouse: Warehouse, draft_id: str) -> None:
    with warehouse.transaction() as cur:
        cur.execute("DELETE FROM problem_drafts WHERE draft_id = ?", [draft_id])


# ---------------------------------------------------------------------------------
# Rows with a revision each: initiatives, phases, ladder steps
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RowKind(Generic[T]):
    table: str
    key_column: str
    columns: tuple[str, ...]  # item fields stored, in column order
    labels: Mapping[str, str]  # field → its English label (translated where shown)
    what: Callable[[T], object]  # the item in a sentence, as facts
    make: Callable[[str, dict], T]  # key, field values -> item
    percent: tuple[str, ...] = ()  # fields stored as shares, shown as %
    texts: tuple[str, ...] = ()  # fields that may hold a fixed text of the product (``texts``)
    group: str | None = None  # which fixed texts (``texts.GROUPS``)


def _fields(kind: _RowKind, item: object) -> dict:
    return {c: getattr(item, c) for c in kind.columns}


def _item_shown(kind: _RowKind[T], item: T) -> T:
    """An item as the reader reads it: the product's fixed texts translated."""
    return replace(item, **{c: texts.shown(getattr(item, c), kind.group) for c in kind.texts})


def _item_stored(kind: _RowKind[T], item: T) -> T:
    """An item as shown (in either language) as it is stored."""
    return replace(item, **{c: texts.stored(getattr(item, c), kind.group) for c in kind.texts})


def _stored_rows(cur: duckdb.DuckDBPyConnection, kind: _RowKind[T], project_id: str) -> list[Stored[T]]:
    """The rows as stored."""
    rows = _rows(cur, f"SELECT * FROM {kind.table} WHERE project_id = ? ORDER BY position", [project_id])
    return [Stored(r[kind.key_column], r["revision"], r["updated_at"],
                   kind.make(r[kind.key_column], {c: r[_column(c)] for c in kind.columns})) for r in rows]


def _shown_rows(cur: duckdb.DuckDBPyConnection, kind: _RowKind[T], project_id: str) -> list[Stored[T]]:
    """The rows in the reader's language."""
    return [replace(s, item=_item_shown(kind, s.item)) for s in _stored_rows(cur, kind, project_id)]


def _column(field: str) -> str:
    return {"start": "start_date", "end": "end_date"}.get(field, field)


def _save_row(cur: duckdb.DuckDBPyConnection, kind: _RowKind[T], project_id: str, opened: Stored[T], mine: T,
              now: datetime) -> Saved:
    """Save ``mine``, edited from ``opened`` (both as shown, in either language)."""
    opened = replace(opened, item=_item_stored(kind, opened.item))
    mine = _item_stored(kind, mine)
    rows = _rows(cur, f"SELECT * FROM {kind.table} WHERE project_id = ? AND {kind.key_column} = ?",
                 [project_id, opened.key])
    if not rows:
        raise ConflictError(kind.what(opened.item), None, [], mine=_shown(kind, _fields(kind, mine)), deleted=True)
    row = rows[0]
    current = kind.make(opened.key, {c: row[_column(c)] for c in kind.columns})
    values = _fields(kind, mine)
    merged = row["revision"] != opened.revision
    if merged:
        values, conflicts = three_way_merge(_fields(kind, opened.item), _fields(kind, current), values)
        if conflicts:
            raise ConflictError(kind.what(current), row["updated_at"], [kind.labels[c] for c in conflicts],
                                mine=_shown(kind, {c: values[c] for c in conflicts}),
                                theirs=_shown(kind, {c: getattr(current, c) for c in conflicts}))
    if values == _fields(kind, current):
        return Saved(row["revision"], merged)
    kind.make(opened.key, values)  # the merged row must be valid too
    assignments = ", ".join(f"{_column(c)} = ?" for c in kind.columns)
    cur.execute(f"UPDATE {kind.table} SET {assignments}, revision = ?, updated_at = ? "
                f"WHERE project_id = ? AND {kind.key_column} = ?",
                [*(_plain(values[c]) for c in kind.columns), row["revision"] + 1, now, project_id, opened.key])
    return Saved(row["revision"] + 1, merged)


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _shown(kind: _RowKind, values: Mapping[str, object]) -> dict[str, str]:
    """Values for a conflict's table, in the current language, under their English labels."""
    return {kind.labels[c]: _text(v, percent=c in kind.percent, group=kind.group) for c, v in values.items()}


def _text(value: object, percent: bool = False, group: str | None = None) -> str:
    if value is None or value == "":
        return "–"
    if percent:
        return fmt.pct(value, 0)
    if isinstance(value, date):
        return fmt.date(value)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, PhaseStatus | StepStatus):
        return value.label
    return str(texts.shown(_plain(value), group))


_INITIATIVE_LABELS = {"name": N_("name"), "description": N_("description"), "effort_weeks": N_("effort"),
                      "impact_yen": N_("impact"), "confidence": N_("confidence"), "reach": N_("reach")}
_INITIATIVES: _RowKind[Initiative] = _RowKind(
    "initiatives", "initiative_id", ("name", "description", "effort_weeks", "impact_yen", "confidence", "reach"),
    _INITIATIVE_LABELS, lambda i: M_("the initiative '{name}'", name=texts.fact(i.name, texts.INITIATIVE)),
    lambda key, values: Initiative(**values), percent=("confidence", "reach"), texts=("name", "description"),
    group=texts.INITIATIVE)
_PHASES: _RowKind[Phase] = _RowKind(
    "plan_phases", "phase_key", ("owner", "start", "end", "status", "notes"), FIELD_LABELS,
    lambda p: M_("the phase '{name}'", name=Msg(PHASE_NAMES[p.key])), lambda key, values: Phase(key, **values),
    texts=("owner", "notes"), group=texts.PHASE)
_STEPS: _RowKind[LadderStep] = _RowKind(
    "ladder_steps", "step_key", ("methods", "stop_rule", "timebox_weeks", "status", "result"), FIELD_LABELS,
    lambda s: M_("the ladder step '{name}'", name=Msg(LADDER_NAMES[s.key])),
    lambda key, values: LadderStep(key, **values), texts=("methods", "stop_rule", "result"),
    group=texts.STEP)


def _insert_phase(cur: duckdb.DuckDBPyConnection, project_id: str, position: int, phase: Phase, now: datetime) -> None:
    cur.execute("INSERT INTO plan_phases VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                [project_id, phase.key, position, phase.owner, phase.start, phase.end, phase.status.value,
                 phase.notes, now])


def _insert_step(cur: duckdb.DuckDBPyConnection, project_id: str, position: int, step: LadderStep,
                 now: datetime) -> None:
    cur.execute("INSERT INTO ladder_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                [project_id, step.key, position, step.methods, step.stop_rule, step.timebox_weeks, step.status.value,
                 step.result, now])


def _insert_initiatives(cur: duckdb.DuckDBPyConnection, project_id: str, items: Iterable[Initiative],
                        now: datetime) -> None:
    existing = _rows(cur, "SELECT lower(name) AS name, max(position) OVER () AS last FROM initiatives "
                          "WHERE project_id = ?", [project_id])
    names = {r["name"] for r in existing}
    position = (existing[0]["last"] + 1) if existing else 0
    for item in items:
        item = _item_stored(_INITIATIVES, item)
        if item.name.lower() in names:
            raise InvalidInputError(M_("The initiative '{name}'", name=texts.fact(item.name, texts.INITIATIVE)),
                                    [M_("another initiative of this project has that name; choose another.")])
        names.add(item.name.lower())
        cur.execute("INSERT INTO initiatives VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                    [project_id, uuid.uuid4().hex[:12], position, item.name, item.description, item.effort_weeks,
                     item.impact_yen, item.confidence, item.reach, now])
        position += 1


def list_initiatives(warehouse: Warehouse, project_id: str) -> list[Stored[Initiative]]:
    """The project's initiatives, in the reader's language."""
    with warehouse.cursor() as cur:
        return _shown_rows(cur, _INITIATIVES, project_id)


def add_initiatives(warehouse: Warehouse, project_id: str, items: Iterable[Initiative]) -> None:
    with warehouse.transaction() as cur:
        _project(cur, project_id)
        _insert_initiatives(cur, project_id, items, _now())


def add_example_initiatives(warehouse: Warehouse, project_id: str) -> int:
    """The talk's eight retail initiatives, skipping names the project already has."""
    with warehouse.cursor() as cur:
        have = {s.item.name.lower() for s in _stored_rows(cur, _INITIATIVES, project_id)}
    new = [i for i in example.initiatives() if i.name.lower() not in have]
    add_initiatives(warehouse, project_id, new)
    return len(new)


def apply_initiative_changes(warehouse: Warehouse, project_id: str, opened: Mapping[str, Stored[Initiative]],
                             changes: EditorChanges) -> list[Saved]:
    """Rows added, changed and deleted in the table, in one transaction: all or none.
    A deleted row someone changed since is not deleted (``ConflictError``)."""
    now = _now()
    saved = []
    with warehouse.transaction() as cur:
        _project(cur, project_id)
        for key, item in changes.updated:
            item = _item_stored(_INITIATIVES, item)
            others = _rows(cur, "SELECT 1 FROM initiatives WHERE project_id = ? AND lower(name) = lower(?) "
                                "AND initiative_id <> ?", [project_id, item.name, key])
            if others:
                raise InvalidInputError(M_("The initiative '{name}'", name=texts.fact(item.name, texts.INITIATIVE)),
                                        [M_("another initiative of this project has that name; choose another.")])
            saved.append(_save_row(cur, _INITIATIVES, project_id, opened[key], item, now))
        for key in changes.deleted:
            rows = _rows(cur, "SELECT revision, updated_at FROM initiatives WHERE project_id = ? AND initiative_id = ?",
                         [project_id, key])
            if rows and rows[0]["revision"] != opened[key].revision:
                raise ConflictError(M_("{initiative} (you deleted it)", initiative=_INITIATIVES.what(opened[key].item)),
                                    rows[0]["updated_at"], [N_("it")], mine={N_("action"): M_("delete")},
                                    theirs={N_("action"): M_("edited")})
            cur.execute("DELETE FROM initiatives WHERE project_id = ? AND initiative_id = ?", [project_id, key])
        _insert_initiatives(cur, project_id, changes.added, now)
    return saved


def list_phases(warehouse: Warehouse, project_id: str) -> list[Stored[Phase]]:
    """The project's phases, in the reader's language."""
    with warehouse.cursor() as cur:
        return _shown_rows(cur, _PHASES, project_id)


def save_phase(warehouse: Warehouse, project_id: str, opened: Stored[Phase], mine: Phase) -> Saved:
    with warehouse.transaction() as cur:
        return _save_row(cur, _PHASES, project_id, opened, mine, _now())


def list_ladder(warehouse: Warehouse, project_id: str) -> list[Stored[LadderStep]]:
    """The project's ladder, in the reader's language."""
    with warehouse.cursor() as cur:
        return _shown_rows(cur, _STEPS, project_id)


def save_step(warehouse: Warehouse, project_id: str, opened: Stored[LadderStep], mine: LadderStep) -> Saved:
    with warehouse.transaction() as cur:
        return _save_row(cur, _STEPS, project_id, opened, mine, _now())

