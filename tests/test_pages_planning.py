"""AppTest for the planning pages: each renders on the default warehouse and its main
interactions change what is shown; two sessions on one warehouse stand for two tabs."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.conftest import new_session, open_page


def session(page: str | None = None) -> AppTest:
    return new_session(page)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def by_label(elements, label: str, index: int = 0):
    return [e for e in elements if e.label == label][index]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def plotly_titles(at: AppTest) -> list[str]:
    return [json.loads(el.proto.spec)["layout"]["title"]["text"] for el in at.get("plotly_chart")]


# ---------------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------------
def test_projects_page_shows_the_example_and_creates_a_project(warehouse_env):
    at = session("pages/projects.py")
    assert at.title[0].value == "Projects"
    assert any(s.value.startswith("AI Shop demand forecasting") for s in at.subheader)
    shown = metrics(at)
    assert shown["Problem definition"] == "version 1" and shown["Initiatives"] == "8"
    assert shown["Definition ready"] == "12 of 12"
    example_id = by_label(at.selectbox, "Project").value

    by_label(at.text_input, "Project name").set_value("配送遅延予測 Delivery delays")
    by_label(at.text_area, "What it is about (optional)").set_value("配送の遅れを前日に知らせる")
    button(at, "Create project").click()
    run(at)
    assert any("Created '配送遅延予測 Delivery delays'" in s.value for s in at.success)
    assert by_label(at.selectbox, "Project").value != example_id
    assert metrics(at)["Problem definition"] == "not written"

    # The current project follows to the other pages, and to a new visit.
    open_page(at, "pages/problem.py")
    assert by_label(at.selectbox, "Project").value != example_id
    assert by_label(at.text_area, "Problem statement").value == ""
    again = session("pages/effort-impact.py")
    assert by_label(again.selectbox, "Project").value == by_label(at.selectbox, "Project").value
    assert any("no candidate initiative yet" in i.value for i in again.info)


def test_projects_page_refuses_a_duplicate_name_and_deletes_with_confirmation(warehouse_env):
    at = session("pages/projects.py")
    name = next(s.value for s in at.subheader if s.value.startswith("AI Shop"))
    by_label(at.text_input, "Project name").set_value(name)
    button(at, "Create project").click()
    run(at)
    assert any("already exists" in e.value for e in at.error)
    button(at, "Delete project").click()
    run(at)
    assert any("Tick 'Yes, delete this project'" in w.value for w in at.warning)
    by_label(at.checkbox, "Yes, delete this project").check()
    button(at, "Delete project").click()
    run(at)
    assert any(f"Deleted '{name}'" in s.value for s in at.success)
    assert any("There is no project yet" in i.value for i in at.info)
    open_page(at, "pages/poc-plan.py")  # every planning page says where to go
    assert any("There is no project yet" in i.value for i in at.info)


def test_projects_page_links_datasets_and_renames(warehouse_env):
    at = session("pages/projects.py")
    datasets = by_label(at.multiselect, "Datasets this project uses")
    assert [datasets.format_func(d) for d in datasets.value] == ["AI Shop demo chain"]  # linked by the example
    by_label(at.text_input, "Name").set_value("需要予測 PoC")
    button(at, "Save project").click()
    run(at)
    assert any(s.value == "Saved." for s in at.success)
    assert any(s.value == "需要予測 PoC" for s in at.subheader)


# ---------------------------------------------------------------------------------
# Problem definition
# ---------------------------------------------------------------------------------
def test_problem_page_saves_a_version_and_shows_what_changed(warehouse_env):
    at = session("pages/problem.py")
    assert at.title[0].value == "Problem definition"
    assert any("Ready for the PoC: 12 of 12" in (p.proto.text or "") for p in at.get("progress"))
    assert any("Machine learning is worth a PoC" in s.value for s in at.success)
    assert any("Offline threshold" in m.value and "WAPE at least 10% better" in m.value for m in at.markdown)
    save = button(at, "Save version 2")
    assert save.disabled  # nothing changed yet

    by_label(at.text_area, "Problem statement").set_value("弁当の廃棄が多い。Too many bento are thrown away.")
    by_label(at.text_input, "What changed (optional, kept in the history)").set_value("弁当に絞る")
    run(at)
    assert any("unsaved changes" in m.value for m in at.markdown)
    button(at, "Save version 2").click()
    run(at)
    assert any(s.value == "Saved version 2." for s in at.success)
    assert by_label(at.text_area, "Problem statement").value.startswith("弁当の廃棄が多い")
    history = at.dataframe[0].value
    assert list(history["version"]) == [2, 1] and history["note"].iloc[0] == "弁当に絞る"
    assert history["what changed"].iloc[0] == "Problem statement"
    assert any(m.value.startswith("**Problem statement**") for m in at.markdown)  # the diff of version 2

    at.selectbox(key=at.selectbox[-1].key).set_value(1)
    run(at)
    button(at, "Load version 1 into the form").click()
    run(at)
    assert by_label(at.text_area, "Problem statement").value.startswith("店舗×商品")
    assert any("Version 1 is in the form" in s.value for s in at.success)


def test_problem_page_explains_what_blocks_a_save(warehouse_env):
    at = session("pages/projects.py")
    by_label(at.text_input, "Project name").set_value("empty")
    button(at, "Create project").click()
    run(at)
    open_page(at, "pages/problem.py")
    assert any("No GO/NO-GO criterion uses WAPE" in w.value for w in at.warning)
    assert any("Try a rule first" in w.value for w in at.warning)
    by_label(at.number_input, "Value of solving it (¥ per year)").set_value(30_000_000.0)
    button(at, "Add a criterion").click()
    run(at)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Criterion 1 metric")).set_value("wape")
    by_label(at.number_input, "Criterion 1 threshold").set_value(150.0)
    run(at)
    assert any("cannot improve by 100 %" in c.value for c in at.caption)
    button(at, "Save version 1").click()
    run(at)
    message = texts(at.error)
    assert "Describe the problem" in message and "how the value of ¥30,000,000" in message
    assert "GO/NO-GO criterion 1" in message
    assert by_label(at.number_input, "Criterion 1 threshold").value == 150.0  # the input is kept

    by_label(at.number_input, "Criterion 1 threshold").set_value(10.0)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Criterion 1 baseline")).set_value("practice")
    by_label(at.text_area, "Problem statement").set_value("欠品")
    by_label(at.text_area, "How the value was estimated").set_value("売上 × 0.5%")
    run(at)
    assert any("Reads: **WAPE at least 10% better (lower) than today's practice**" in c.value for c in at.caption)
    button(at, "Save version 1").click()
    run(at)
    assert any(s.value == "Saved version 1." for s in at.success)


def test_two_tabs_on_one_definition_merge_or_warn_and_keep_the_text(warehouse_env):
    tab_a, tab_b = session("pages/problem.py"), session("pages/problem.py")
    by_label(tab_a.text_input, "KPI").set_value("廃棄率")
    run(tab_a)
    button(tab_a, "Save version 2").click()
    run(tab_a)
    # B changed another field: saved, A's change kept.
    by_label(tab_b.text_input, "KPI unit").set_value("%")
    run(tab_b)
    assert any("Version 2 was saved" in w.value for w in tab_b.warning)
    button(tab_b, "Save version 3").click()
    run(tab_b)
    assert any("their changes to other fields were kept" in s.value for s in tab_b.success)
    assert by_label(tab_b.text_input, "KPI").value == "廃棄率"
    # A, still on version 2, changes the unit too: a conflict, and A's text stays.
    by_label(tab_a.text_input, "KPI unit").set_value("円")
    run(tab_a)
    button(tab_a, "Save version 4").click()
    run(tab_a)
    assert any("since you opened it" in e.value and "your text is kept below" in e.value for e in tab_a.error)
    kept = tab_a.dataframe[0].value
    assert kept.to_dict("records") == [{"field": "KPI unit", "yours": "円", "theirs": "%"}]
    assert by_label(tab_a.text_input, "KPI unit").value == "円"
    button(tab_a, "Save version 4").click()  # again: the same answer, shown at the top and by the button
    run(tab_a)
    assert sum("since you opened it" in e.value for e in tab_a.error) == 2
    button(tab_a, "Save mine over theirs").click()
    run(tab_a)
    assert any(s.value == "Saved version 4." for s in tab_a.success)
    assert by_label(tab_a.text_input, "KPI unit").value == "円"


def test_unsaved_text_survives_a_new_visit(warehouse_env):
    first = session("pages/problem.py")
    by_label(first.text_area, "Decision the prediction supports").set_value("店長が毎朝発注を承認する")
    run(first)
    assert any("kept as a draft" in m.value for m in first.markdown)

    later = session("pages/problem.py")  # a reload: a new session
    assert any("Unsaved changes" in i.value and "Decision supported" in i.value for i in later.info)
    button(later, "Restore into the form").click()
    run(later)
    assert by_label(later.text_area, "Decision the prediction supports").value == "店長が毎朝発注を承認する"
    assert any("Restored the unsaved changes" in s.value for s in later.success)


# ---------------------------------------------------------------------------------
# Effort / impact
# ---------------------------------------------------------------------------------
def test_effort_impact_page_maps_ranks_and_moves_an_edited_initiative(warehouse_env):
    at = session("pages/effort-impact.py")
    assert at.title[0].value == "Effort / impact"
    assert plotly_titles(at) == ["Effort against impact: start where effort is little and impact large"]
    assert "Start with Demand forecasting" in texts(at.markdown)
    ranking = at.dataframe[-1].value
    assert ranking["name"].iloc[0].startswith("Demand forecasting") and len(ranking) == 8
    before = at.get("plotly_chart")[0].proto.spec

    editor = at.data_editor[0]
    assert editor.editing_mode == "dynamic"
    at.session_state[editor.key] = {"edited_rows": {0: {"effort_weeks": 40.0}}, "added_rows": [], "deleted_rows": []}
    run(at)
    assert any("updated Demand forecasting" in s.value for s in at.success)
    assert at.get("plotly_chart")[0].proto.spec != before
    ranking = at.dataframe[-1].value
    moved = ranking[ranking["name"].str.startswith("Demand forecasting")].iloc[0]
    assert moved["quadrant"] == "Wait until you need it" and moved["effort_weeks"] == 40
    assert "Nothing is both little effort and large impact" in texts(at.markdown)


def test_effort_impact_thresholds_move_and_are_kept(warehouse_env):
    at = session("pages/effort-impact.py")
    slider = by_label(at.select_slider, "Little effort means at most (person-weeks)")
    slider.set_value(26)
    run(at)
    ranking = at.dataframe[-1].value
    assert (ranking["quadrant"] == "Aim here (MUST)").sum() == 2  # order automation joins
    again = session("pages/effort-impact.py")
    assert by_label(again.select_slider, "Little effort means at most (person-weeks)").value == 26


def test_effort_impact_adds_a_row_and_turns_an_initiative_into_the_problem(warehouse_env):
    at = session("pages/effort-impact.py")
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"name": "廃棄予測", "effort_weeks": 6.0, "impact_yen": 30_000_000.0, "confidence_pct": 60, "reach_pct": 50}]}
    run(at)
    assert any("added 廃棄予測" in s.value for s in at.success)
    assert len(at.dataframe[-1].value) == 9

    choice = by_label(at.selectbox, "Initiative")
    assert choice.options[0].startswith("Demand forecasting")  # the top of the ranking is preselected
    table_rows = at.data_editor[0].value  # carries each initiative's key in a hidden column
    choice.set_value(table_rows.loc[table_rows["name"] == "廃棄予測", "key"].iloc[0])
    run(at)
    button(at, "Make it the problem definition").click()
    run(at)
    assert at.title[0].value == "Problem definition"
    assert by_label(at.text_area, "Problem statement").value == "廃棄予測"
    assert by_label(at.number_input, "Value of solving it (¥ per year)").value == 30_000_000
    assert at.dataframe[0].value["note"].iloc[0] == "From the initiative '廃棄予測'"
    assert any("'廃棄予測' is now the problem" in s.value for s in at.success)


# ---------------------------------------------------------------------------------
# PoC plan
# ---------------------------------------------------------------------------------
def test_plan_page_saves_as_you_go_and_redraws(warehouse_env):
    at = session("pages/poc-plan.py")
    assert at.title[0].value == "PoC plan"
    assert metrics(at)["Phases done"] == "0 of 4"
    assert plotly_titles(at) == ["PoC plan: phases from survey to GO/NO-GO"]
    by_label(at.text_input, "Owner", 1).set_value("高橋 (ML)")
    by_label(at.selectbox, "Status", 0).set_value("done")
    run(at)
    assert metrics(at)["Phases done"] == "1 of 4"
    assert "高橋 (ML)" in json.dumps(json.loads(at.get("plotly_chart")[0].proto.spec), ensure_ascii=False)
    by_label(at.text_input, "Result", 0).set_value("WAPE 31% (practice 36%)")
    by_label(at.selectbox, "Status", 4).set_value("stopped here: good enough")
    run(at)
    assert "Stopped at 'Rules and statistics ルール・統計'" in texts(at.markdown)

    again = session("pages/poc-plan.py")  # saved: a new visit sees it
    assert by_label(again.text_input, "Owner", 1).value == "高橋 (ML)"
    assert by_label(again.text_input, "Result", 0).value == "WAPE 31% (practice 36%)"


def test_plan_page_refuses_an_end_before_the_start(warehouse_env):
    at = session("pages/poc-plan.py")
    start = by_label(at.date_input, "Start", 2).value
    by_label(at.date_input, "End", 2).set_value(start.replace(year=start.year - 1))
    run(at)
    assert any("ends" in e.value and "before it starts" in e.value for e in at.error)
    assert by_label(at.date_input, "End", 2).value.year == start.year - 1  # what was typed stays


def test_plan_page_merges_two_tabs_and_warns_when_both_change_a_field(warehouse_env):
    tab_a, tab_b = session("pages/poc-plan.py"), session("pages/poc-plan.py")
    by_label(tab_a.text_input, "Owner", 2).set_value("A さん")
    run(tab_a)
    by_label(tab_b.text_input, "Notes", 2).set_value("B のメモ")  # same phase, another field: merged
    run(tab_b)
    assert not tab_b.error
    assert by_label(tab_b.text_input, "Owner", 2).value == "A さん"
    by_label(tab_b.text_input, "Owner", 2).set_value("B さん")
    run(tab_b)
    by_label(tab_a.text_input, "Owner", 2).set_value("A さん 2")  # A has not seen B's owner
    run(tab_a)
    assert any("since you opened it" in e.value and "owner" in e.value for e in tab_a.error)
    assert tab_a.dataframe[0].value.to_dict("records") == [{"field": "owner", "yours": "A さん 2",
                                                            "theirs": "B さん"}]
    assert by_label(tab_a.text_input, "Owner", 2).value == "B さん"  # the form now shows theirs
    assert by_label(tab_a.text_input, "Notes", 2).value == "B のメモ"
