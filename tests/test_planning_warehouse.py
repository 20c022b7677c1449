"""Planning documents in the warehouse: migration, versions, drafts, and saves by two
people at once that merge or refuse — never lose one silently."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import pytest

from core.planning import example
from core.planning import store as pl
from core.planning.definition import ProblemDefinition
from core.planning.errors import ConflictError, InvalidInputError, ProjectExistsError, ProjectNotFoundError
from core.planning.initiatives import EditorChanges, Initiative, Thresholds
from core.planning.plan import PhaseStatus
from core.warehouse import SCHEMA_VERSION, Warehouse, migrate


def planning_state(warehouse: Warehouse) -> dict[str, list]:
    """Every planning row, to check that a failed save changed nothing."""
    tables = ("projects", "project_links", "problem_versions", "problem_drafts", "initiatives", "plan_phases",
              "ladder_steps", "planning_settings")
    return {t: sorted(map(str, warehouse.query(f"SELECT * FROM {t}").to_dict("records"))) for t in tables}


@pytest.fixture
def project(warehouse):
    return pl.create_project(warehouse, "AI商店 テスト", "説明", from_example=True)


def test_old_warehouse_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "v3.duckdb"
    con = duckdb.connect(str(path))
    assert migrate(con, upto=3) == 3  # a warehouse written before the planning pages
    con.execute("INSERT INTO datasets VALUES ('abc', 'old one', 'D', 'src', '', now(), 1, 2, '2024-01-01', "
                "'2024-01-02', 'f', 'obs_abc', '[]')")
    con.execute("INSERT INTO runs VALUES ('r1', 'old run', 'abc', 'old one', 'f', 'v', 'D', '{}', '{}', 1, 0.5, now())")
    con.close()

    wh = Warehouse(path)
    assert wh.schema_version == SCHEMA_VERSION >= 4
    assert wh.find_dataset("old one") is not None
    assert wh.query("SELECT name FROM runs")["name"].tolist() == ["old run"]
    assert {"projects", "problem_versions", "initiatives", "plan_phases", "ladder_steps"} <= set(wh.tables())
    created = pl.ensure_example_project(wh)  # the first visit after the upgrade offers the example
    assert created is not None and pl.latest_definition(wh, created.project_id).version == 1
    saved = pl.update_project(wh, created, created.name, "", ["abc"], ["r1"])
    assert saved.revision == 2
    wh.close()

    again = Warehouse(path)  # reopening is idempotent and keeps everything
    assert again.schema_version == SCHEMA_VERSION
    [kept] = pl.list_projects(again)
    assert kept.dataset_ids == ("abc",) and kept.run_ids == ("r1",)
    again.close()


def test_the_example_is_offered_once(warehouse):
    first = pl.ensure_example_project(warehouse)
    assert first is not None and first.name == example.NAME
    assert pl.ensure_example_project(warehouse) is None
    pl.delete_project(warehouse, first.project_id)
    assert pl.ensure_example_project(warehouse) is None  # deleted stays deleted
    assert pl.list_projects(warehouse) == []


def test_example_project_is_filled(warehouse, project):
    assert [s.item.name for s in pl.list_initiatives(warehouse, project.project_id)] == \
        [i.name for i in example.initiatives()]
    phases = pl.list_phases(warehouse, project.project_id)
    assert [p.key for p in phases] == ["survey", "offline", "online", "decision"]
    assert phases[0].item.status is PhaseStatus.IN_PROGRESS and phases[0].item.owner.startswith("田中")
    assert [s.key for s in pl.list_ladder(warehouse, project.project_id)] == ["rules", "simple", "gbdt", "give_up"]
    assert pl.latest_definition(warehouse, project.project_id).definition == example.definition()
    empty = pl.create_project(warehouse, "空のプロジェクト")
    assert pl.latest_definition(warehouse, empty.project_id) is None
    assert pl.list_initiatives(warehouse, empty.project_id) == []
    assert len(pl.list_phases(warehouse, empty.project_id)) == 4
    assert pl.add_example_initiatives(warehouse, empty.project_id) == 8
    assert pl.add_example_initiatives(warehouse, empty.project_id) == 0


def test_projects_are_named_uniquely_and_deleted_with_everything(warehouse, project):
    with pytest.raises(ProjectExistsError):
        pl.create_project(warehouse, "ai商店 テスト")
    with pytest.raises(InvalidInputError, match="Give it a name"):
        pl.create_project(warehouse, "  ")
    odd = pl.create_project(warehouse, "O'Reilly'); DROP TABLE projects; --")
    assert pl.get_project(warehouse, odd.project_id).name.startswith("O'Reilly")
    pl.remember_project(warehouse, project.project_id)
    assert pl.last_project_id(warehouse) == project.project_id
    from core.money.impact import Economics, ImpactConfig
    from core.money.store import load_impact_settings, save_impact_settings
    save_impact_settings(warehouse, project.project_id, ImpactConfig(economics=Economics(unit_price=300.0)))
    assert load_impact_settings(warehouse, project.project_id).economics.unit_price == 300.0
    pl.delete_project(warehouse, project.project_id)
    assert load_impact_settings(warehouse, project.project_id) is None
    assert pl.last_project_id(warehouse) is None
    with pytest.raises(ProjectNotFoundError):
        pl.get_project(warehouse, project.project_id)
    for table in ("problem_versions", "initiatives", "plan_phases", "ladder_steps", "project_settings"):
        left = warehouse.query(f"SELECT count(*) AS n FROM {table} WHERE project_id = ?", [project.project_id])
        assert left["n"][0] == 0
    assert [p.name for p in pl.list_projects(warehouse)] == [odd.name]


def test_definition_versions_and_history(warehouse):
    project = pl.create_project(warehouse, "p")
    first = pl.save_definition(warehouse, project.project_id, ProblemDefinition(problem="欠品が多い"), 0, "最初")
    assert (first.version.version, first.merged_with, first.unchanged) == (1, None, False)
    same = pl.save_definition(warehouse, project.project_id, ProblemDefinition(problem="欠品が多い"), 1)
    assert same.unchanged and same.version.version == 1
    second = pl.save_definition(warehouse, project.project_id,
                                ProblemDefinition(problem="欠品が多い", kpi_name="欠品率"), 1, "KPI")
    assert second.version.version == 2
    history = pl.definition_history(warehouse, project.project_id)
    assert [(v.version, v.note) for v in history] == [(1, "最初"), (2, "KPI")]
    assert pl.definition_version(warehouse, project.project_id, 1).definition.kpi_name == ""
    summary = next(s for s in pl.project_summaries(warehouse) if s.project.project_id == project.project_id)
    assert summary.version == 2 and summary.phases == 4 and summary.phases_done == 0


def test_two_editors_of_a_definition_merge_or_get_a_conflict(warehouse, project):
    pid = project.project_id
    opened = pl.latest_definition(warehouse, pid)  # both tabs open version 1
    tab_a = replace(opened.definition, kpi_target=4.0)
    tab_b = replace(opened.definition, problem="在庫が多すぎる")
    assert pl.save_definition(warehouse, pid, tab_a, 1).version.version == 2
    merged = pl.save_definition(warehouse, pid, tab_b, 1)  # B did not see A's save
    assert merged.merged_with == 2 and merged.version.version == 3
    assert merged.version.definition.kpi_target == 4.0 and merged.version.definition.problem == "在庫が多すぎる"
    assert "merged with version 2" in merged.version.note

    before = planning_state(warehouse)
    tab_c = replace(opened.definition, kpi_target=3.0)  # also from version 1: the same field as A
    with pytest.raises(ConflictError) as caught:
        pl.save_definition(warehouse, pid, tab_c, 1)
    error = caught.value
    assert "since you opened it" in str(error) and "reload to see their changes" in str(error)
    assert "your text is kept below" in str(error) and error.fields == ("KPI target",)
    assert error.mine == {"KPI target": "3"} and error.theirs == {"KPI target": "4"}
    assert planning_state(warehouse) == before  # nothing saved


def test_drafts_keep_unsaved_text(warehouse, project):
    pid = project.project_id
    pl.save_draft(warehouse, "d1", pid, 1, {"problem": "下書き", "criteria": []})
    pl.save_draft(warehouse, "d1", pid, 1, {"problem": "下書き 2", "criteria": []})
    [draft] = pl.list_drafts(warehouse, pid)
    assert draft.form["problem"] == "下書き 2" and draft.base_version == 1
    assert "下書き 2" in warehouse.query("SELECT form FROM problem_drafts")["form"][0]  # readable Japanese
    pl.delete_draft(warehouse, "d1")
    assert pl.list_drafts(warehouse, pid) == []


def test_initiative_edits_merge_conflict_and_roll_back(warehouse, project):
    pid = project.project_id
    opened = {s.key: s for s in pl.list_initiatives(warehouse, pid)}
    first, second = list(opened)[:2]
    item = opened[first].item
    # Tab A changes the effort, tab B (same snapshot) the confidence: both kept.
    for change in (replace(item, effort_weeks=20), replace(item, confidence=0.9)):
        pl.apply_initiative_changes(warehouse, pid, opened, EditorChanges(updated=((first, change),)))
    now = {s.key: s for s in pl.list_initiatives(warehouse, pid)}
    assert (now[first].item.effort_weeks, now[first].item.confidence, now[first].revision) == (20, 0.9, 3)
    # Tab C changes the effort too: a conflict, with both values.
    with pytest.raises(ConflictError) as caught:
        pl.apply_initiative_changes(warehouse, pid, opened,
                                    EditorChanges(updated=((first, replace(item, effort_weeks=5)),)))
    assert caught.value.fields == ("effort",) and caught.value.mine == {"effort": "5"}
    # Deleting a row someone changed since is refused.
    with pytest.raises(ConflictError, match="you deleted it"):
        pl.apply_initiative_changes(warehouse, pid, opened, EditorChanges(deleted=(first,)))
    # One failing part undoes the whole save.
    before = planning_state(warehouse)
    duplicate = Initiative(opened[second].item.name, effort_weeks=1, impact_yen=1)
    with pytest.raises(InvalidInputError, match="another initiative"):
        pl.apply_initiative_changes(warehouse, pid, now, EditorChanges(
            updated=((first, replace(now[first].item, reach=0.1)),), added=(duplicate,)))
    assert planning_state(warehouse) == before
    # A row deleted by someone else cannot be edited: the values are handed back.
    pl.apply_initiative_changes(warehouse, pid, now, EditorChanges(deleted=(second,)))
    with pytest.raises(ConflictError, match="deleted") as caught:
        pl.apply_initiative_changes(warehouse, pid, opened,
                                    EditorChanges(updated=((second, replace(opened[second].item, reach=0.2)),)))
    assert caught.value.deleted and caught.value.mine["reach"] == "20%"


def test_plan_rows_merge_and_conflict_field_by_field(warehouse, project):
    pid = project.project_id
    opened = pl.list_phases(warehouse, pid)[1]
    a = replace(opened.item, owner="高橋")
    b = replace(opened.item, end=date(2030, 1, 31))
    assert not pl.save_phase(warehouse, pid, opened, a).merged
    assert pl.save_phase(warehouse, pid, opened, b).merged
    now = pl.list_phases(warehouse, pid)[1]
    assert (now.item.owner, now.item.end, now.revision) == ("高橋", date(2030, 1, 31), 3)
    with pytest.raises(ConflictError, match="owner"):
        pl.save_phase(warehouse, pid, opened, replace(opened.item, owner="伊藤"))
    step = pl.list_ladder(warehouse, pid)[2]
    saved = pl.save_step(warehouse, pid, step, replace(step.item, result="WAPE 28%", timebox_weeks=3))
    assert saved.revision == 2 and pl.list_ladder(warehouse, pid)[2].item.result == "WAPE 28%"


def test_project_edits_merge_and_conflict(warehouse, project):
    other = pl.create_project(warehouse, "other")
    a = pl.update_project(warehouse, project, "新しい名前", project.description, [], [])
    assert a.revision == 2 and not a.merged
    b = pl.update_project(warehouse, project, project.name, "別の説明", [], [])  # stale, other field
    assert b.merged and pl.get_project(warehouse, project.project_id).name == "新しい名前"
    with pytest.raises(ConflictError, match="the name"):
        pl.update_project(warehouse, project, "第三の名前", project.description, [], [])
    with pytest.raises(ProjectExistsError):
        pl.update_project(warehouse, pl.get_project(warehouse, project.project_id), other.name, "", [], [])


def test_thresholds_are_kept_per_project(warehouse, project):
    pl.set_thresholds(warehouse, project.project_id, Thresholds(8, 50_000_000))
    assert pl.get_project(warehouse, project.project_id).thresholds == Thresholds(8, 50_000_000)
