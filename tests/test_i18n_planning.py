"""The planning pages and their core in 日本語 (issue 15): each page rendered in Japanese
with no English left (in the states tests/test_pages_planning.py builds), the example
project read in either language and kept as the product's text until edited, sentences
the product writes kept as facts, validation errors and criteria with their values
written the Japanese way (万円, か月, 年月日)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

import pytest
from streamlit.testing.v1 import AppTest

from core.i18n import M_, from_json, render, to_json, using
from core.planning import example
from core.planning import store as pl
from core.planning import texts
from core.planning.criteria import Criterion, evaluate_criterion, judge
from core.planning.definition import ProblemDefinition, from_form, to_form
from core.planning.errors import CriterionError, InvalidInputError, when
from core.planning.initiatives import Initiative, to_definition
from core.planning.plan import PhaseStatus
from tests.conftest import APP, TIMEOUT, japanese
from tests.i18n_check import english_left

# The effort/impact map names each quadrant in bold over its meaning in italics: the
# tags (<b>, <i>, <br>) are no English.
TAGS = {"b", "br", "i"}



def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def by_label(elements, label: str, index: int = 0):
    return [e for e in elements if e.label == label][index]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def texts_of(elements) -> str:
    return "\n".join(e.value for e in elements)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def plotly(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


# ---------------------------------------------------------------------------------
# The four pages in Japanese
# ---------------------------------------------------------------------------------
def test_projects_page_in_japanese(warehouse_env):
    at = japanese("pages/projects.py")
    assert english_left(at) == []
    assert at.title[0].value == "プロジェクト"
    assert any(s.value == "AI商店 需要予測" for s in at.subheader)  # the example, untouched: in Japanese
    shown = metrics(at)
    assert shown["課題定義"] == "バージョン1" and shown["施策"] == "8" and shown["課題定義の準備"] == "12件中12件"

    # The example's Japanese name is the example's: a second one is refused, in Japanese.
    by_label(at.text_input, "プロジェクト名").set_value("AI商店 需要予測")
    button(at, "プロジェクトを作成").click()
    run(at)
    assert any("「AI商店 需要予測」という名前のプロジェクトはすでにあります" in e.value for e in at.error)
    by_label(at.text_input, "プロジェクト名").set_value("配送遅延予測")
    button(at, "プロジェクトを作成").click()
    run(at)
    assert any("「配送遅延予測」を作成し、現在のプロジェクトにしました。" in s.value for s in at.success)
    assert metrics(at)["課題定義"] == "未作成"
    button(at, "プロジェクトを削除").click()
    run(at)
    assert any("「このプロジェクトを削除する」にチェック" in w.value for w in at.warning)
    assert english_left(at) == []


def test_problem_page_in_japanese_saves_a_version_and_shows_the_change(warehouse_env):
    at = japanese("pages/problem.py")
    assert english_left(at) == []
    assert at.title[0].value == "課題定義"
    assert any("PoCの準備：12項目中12項目" in (p.proto.text or "") for p in at.get("progress"))
    assert any("機械学習はPoCを行う価値があります" in s.value for s in at.success)
    assert any("WAPEが現行の発注より10%以上改善（低下）" in m.value for m in at.markdown)  # the offline threshold
    problem = by_label(at.text_area, "課題")
    assert problem.value.startswith("店舗×商品の発注数は") and "Store" not in problem.value  # the example in Japanese
    assert by_label(at.multiselect, "対象の業務").value == ["発注", "在庫管理"]
    assert "6,000万円" in texts_of(at.caption)  # = 年間6,000万円

    problem.set_value("弁当の廃棄が多い。")
    run(at)
    button(at, "バージョン2を保存").click()
    run(at)
    assert any(s.value == "バージョン2を保存しました。" for s in at.success)
    assert at.dataframe[0].value["変更した項目"].iloc[0] == "課題"
    assert english_left(at) == []


def test_problem_page_in_japanese_explains_what_blocks_a_save(warehouse_env):
    at = japanese("pages/projects.py")
    by_label(at.text_input, "プロジェクト名").set_value("空")
    button(at, "プロジェクトを作成").click()
    run(at)
    at.switch_page("pages/problem.py")
    run(at)
    assert any("まずルールを試しましょう。" in w.value for w in at.warning)
    assert any("WAPEを使う判断基準がまだありません" in w.value for w in at.warning)
    assert english_left(at) == []
    by_label(at.number_input, "解決したときの価値（円／年）").set_value(30_000_000.0)
    button(at, "判断基準を追加").click()
    run(at)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "判断基準1の指標")).set_value("wape")
    by_label(at.number_input, "判断基準1のしきい値").set_value(150.0)
    run(at)
    assert any("WAPEは100%以上改善することはできません" in c.value for c in at.caption)
    button(at, "バージョン1を保存").click()
    run(at)
    message = texts_of(at.error)
    assert "課題定義は保存されていません" in message
    assert "年間3,000万円という価値の見積もり方を書いてください" in message  # the value, in 万円
    assert "判断基準1：" in message
    assert english_left(at) == []


# ---------------------------------------------------------------------------------
def test_effort_impact_page_in_japanese(warehouse_env):
    at = japanese("pages/effort-impact.py")
    assert english_left(at, TAGS) == []
    assert at.title[0].value == "工数／インパクト"
    [figure] = plotly(at)
    assert figure["layout"]["title"]["text"] == "工数とインパクト：工数が小さくインパクトが大きいところから始める"
    assert figure["layout"]["xaxis"]["title"]["text"] == "工数（人週、対数目盛）"
    assert {t["name"] for t in figure["data"]} >= {"ここを狙う（MUST）", "本当にやるべきか"}
    markdown = texts_of(at.markdown)
    assert "**需要予測から始めましょう**" in markdown and "本格展開で年間6,000万円" in markdown
    ranking = at.dataframe[-1].value
    assert ranking["名前"].iloc[0] == "需要予測" and ranking["象限"].iloc[0] == "ここを狙う（MUST）"

    # Demand forecasting moves to a huge effort: the map and the ranking say so in Japanese.
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {0: {"effort_weeks": 40.0}}, "added_rows": [], "deleted_rows": []}
    run(at)
    assert any("更新：需要予測" in s.value for s in at.success)
    assert "工数が小さく、かつインパクトが大きい施策はありません" in texts_of(at.markdown)
    assert english_left(at, TAGS) == []
    # The name was not edited: it is still the example's, and reads in English there.
    again = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    again.run()
    again.switch_page("pages/effort-impact.py")
    run(again)
    assert any("Demand forecasting 需要予測" in m.value for m in again.markdown)


# ---------------------------------------------------------------------------------
def test_poc_plan_page_in_japanese(warehouse_env):
    at = japanese("pages/poc-plan.py")
    assert english_left(at) == []
    assert at.title[0].value == "PoC計画"
    shown = metrics(at)
    assert shown["完了したフェーズ"] == "4件中0件" and "年" in shown["PoC開始"] and shown["PoC開始"].endswith("日")
    assert by_label(at.text_input, "担当者", 0).value == "田中（PM）"
    [figure] = plotly(at)
    assert figure["layout"]["title"]["text"] == "PoC計画：現状調査からGO/NO-GO判断までのフェーズ"
    assert {t["name"] for t in figure["data"]} == {"進行中", "未着手"}
    assert "現状調査・課題定義" in figure["layout"]["yaxis"]["categoryarray"]

    by_label(at.selectbox, "状況", 0).set_value("done")
    by_label(at.text_input, "結果", 0).set_value("WAPE 31%（現行の発注 36%）")
    by_label(at.selectbox, "状況", 4).set_value("stopped here: good enough")
    run(at)
    assert metrics(at)["完了したフェーズ"] == "4件中1件"
    assert "「ルール・統計」で終了：十分です。" in texts_of(at.markdown)
    assert english_left(at) == []

    start = by_label(at.date_input, "開始日", 2).value
    by_label(at.date_input, "終了日", 2).set_value(start.replace(year=start.year - 1))
    run(at)
    assert any(f"終了日（{start.year - 1}年" in e.value and "より前です" in e.value for e in at.error)
    assert english_left(at) == []


# ---------------------------------------------------------------------------------
# The example project: the product's text, in the reader's language until edited
# ---------------------------------------------------------------------------------
def test_the_example_project_reads_in_japanese_and_in_english(warehouse):
    project = pl.ensure_example_project(warehouse)
    pid = project.project_id
    with using("ja"):
        shown = pl.get_project(warehouse, pid)
        definition = pl.latest_definition(warehouse, pid).definition
        initiatives = [s.item for s in pl.list_initiatives(warehouse, pid)]
        phases = [s.item for s in pl.list_phases(warehouse, pid)]
        ladder = [s.item for s in pl.list_ladder(warehouse, pid)]
        note = pl.latest_definition(warehouse, pid).note
    assert shown.name == "AI商店 需要予測" and "Example" not in shown.description
    assert definition.kpi_name == "廃棄・欠品ロス率" and definition.kpi_unit == "%（売上比）"
    assert definition.processes == ("発注", "在庫管理") and definition.data_sources[-1] == "祝日"
    assert definition.out_of_scope[0] == "発注の完全自動化（担当者の承認は残す）"
    assert definition.problem.endswith("欠品と廃棄がどちらも多い。")
    assert [i.name for i in initiatives][:2] == ["需要予測", "配送遅延予測"]
    assert phases[0].owner == "田中（PM）" and phases[3].notes == "GO/NO-GOレポートで判断"
    assert ladder[0].stop_rule.startswith("最良のルールか統計モデルが") and note == "AI商店のサンプル"
    # Every text the example shows in Japanese is Japanese.
    for value in (shown.name, shown.description, *[v for v in definition.fields().values() if isinstance(v, str)],
                  *definition.data_sources, *(i.description for i in initiatives), *(p.notes for p in phases),
                  *(s.methods for s in ladder)):
        assert not [w for w in value.split() if w.isascii() and w.isalpha() and len(w) > 3 and w.lower() not in
                    {"wape", "gbdt", "sarimax", "lightgbm", "theta"}], value

    # English: exactly the example as written (the same as before the language switch).
    assert pl.get_project(warehouse, pid).name == example.NAME
    assert pl.latest_definition(warehouse, pid).definition == example.definition()
    assert pl.latest_definition(warehouse, pid).note == "AI Shop example"
    assert [s.item for s in pl.list_initiatives(warehouse, pid)] == list(example.initiatives())


def test_a_japanese_edit_keeps_what_was_not_edited_as_the_examples(warehouse):
    project = pl.ensure_example_project(warehouse)
    pid = project.project_id
    with using("ja"):
        opened = pl.latest_definition(warehouse, pid)
        form = to_form(opened.definition)
        form["kpi_target"] = 4.0
        form["problem"] = "弁当の廃棄が多い。"
        saved = pl.save_definition(warehouse, pid, from_form(form), opened.version, "目標を見直し")
        assert saved.version.definition.kpi_name == "廃棄・欠品ロス率"
        step = pl.list_ladder(warehouse, pid)[0]
        pl.save_step(warehouse, pid, step, replace(step.item, result="WAPE 31%"))
        item = pl.list_initiatives(warehouse, pid)[0]
        pl.apply_initiative_changes(warehouse, pid, {item.key: item}, pl.EditorChanges(
            updated=((item.key, replace(item.item, effort_weeks=20)),)))
        phase = pl.list_phases(warehouse, pid)[0]
        pl.save_phase(warehouse, pid, phase, replace(phase.item, status=PhaseStatus.DONE))
    # Read in English: the untouched fields are the example's, the edited ones as typed.
    latest = pl.latest_definition(warehouse, pid)
    assert latest.version == 2 and latest.note == "目標を見直し"
    assert latest.definition == replace(example.definition(), kpi_target=4.0, problem="弁当の廃棄が多い。")
    step = pl.list_ladder(warehouse, pid)[0].item
    assert step.stop_rule.startswith("Stop here if the best rule") and step.result == "WAPE 31%"
    assert pl.list_initiatives(warehouse, pid)[0].item.name == "Demand forecasting 需要予測"
    assert pl.list_phases(warehouse, pid)[0].item.owner == "田中 Tanaka (PM)"
    assert warehouse.query("SELECT owner FROM plan_phases WHERE phase_key = 'survey'")["owner"][0] == "田中 Tanaka (PM)"


def test_a_draft_typed_in_japanese_reads_in_english(warehouse):
    pid = pl.ensure_example_project(warehouse).project_id
    with using("ja"):
        form = to_form(pl.latest_definition(warehouse, pid).definition)
        form["decision"] = "店長が毎朝発注を承認する"
        pl.save_draft(warehouse, "d1", pid, 1, form)
        assert pl.list_drafts(warehouse, pid)[0].form == form
    [draft] = pl.list_drafts(warehouse, pid)
    english = to_form(example.definition())
    assert draft.form == {**english, "decision": "店長が毎朝発注を承認する"}


# ---------------------------------------------------------------------------------
# What the product writes: facts
# ---------------------------------------------------------------------------------
def test_a_problem_made_from_an_initiative_reads_in_either_language(warehouse):
    pid = pl.ensure_example_project(warehouse).project_id
    with using("ja"):
        chosen = pl.list_initiatives(warehouse, pid)[1].item  # 配送遅延予測, the example's
        opened = pl.latest_definition(warehouse, pid)
        pl.save_definition(warehouse, pid, to_definition(opened.definition, chosen), opened.version,
                           M_("From the initiative '{name}'", name=texts.fact(chosen.name, texts.INITIATIVE)))
        latest = pl.latest_definition(warehouse, pid)
        assert latest.note == "施策「配送遅延予測」から作成"
        assert latest.definition.problem == "配送遅延予測：配送の遅れを前日に予測し、店舗に知らせる。"
        assert latest.definition.value_estimate == (
            "工数／インパクトマップより：本格展開で年間1,000万円、確信度60%、初年度のカバー範囲はチェーンの40%。工数は約8人週。")
    latest = pl.latest_definition(warehouse, pid)
    assert latest.note == "From the initiative 'Delivery-delay prediction 配送遅延予測'"
    assert latest.definition.problem.startswith("Delivery-delay prediction 配送遅延予測: 配送の遅れ")
    assert latest.definition.value_estimate.startswith("From the effort/impact map: ¥10,000,000 a year")
    # Saving it again untouched keeps the facts: it still reads in Japanese.
    pl.save_definition(warehouse, pid, replace(latest.definition, kpi_target=4.2), latest.version)
    with using("ja"):
        assert pl.latest_definition(warehouse, pid).definition.value_estimate.startswith("工数／インパクトマップより")


def test_notes_the_product_wrote_in_an_older_warehouse_read_in_japanese(warehouse):
    pid = pl.create_project(warehouse, "古い").project_id
    for version, note in ((1, "AI Shop example"), (2, "弁当に絞る (merged with version 1)"),
                          (3, "From the initiative 'Demand forecasting 需要予測'")):
        with warehouse.transaction() as cur:
            cur.execute("INSERT INTO problem_versions VALUES (?, ?, ?, ?, ?, ?)",
                        [pid, version, datetime(2026, 5, version), note, "{}", "[]"])
    with using("ja"):
        notes = [v.note for v in pl.definition_history(warehouse, pid)]
    assert notes == ["AI商店のサンプル", "弁当に絞る（バージョン1と統合）", "施策「需要予測」から作成"]
    assert [v.note for v in pl.definition_history(warehouse, pid)] == [
        "AI Shop example", "弁当に絞る (merged with version 1)", "From the initiative 'Demand forecasting 需要予測'"]


# ---------------------------------------------------------------------------------
# Errors and criteria with their values
# ---------------------------------------------------------------------------------
def test_a_validation_error_reads_in_japanese_with_its_value():
    form = to_form(ProblemDefinition())
    form.update(value_yen_per_year=30_000_000.0, budget_yen=-5.0)
    with pytest.raises(InvalidInputError) as caught:
        from_form(form)
    error = caught.value
    with using("ja"):
        assert str(error).startswith("課題定義は保存されていません：")
        assert "年間3,000万円という価値の見積もり方を書いてください" in str(error)
        assert "予算（円）は負にできません。" in error.problems
    assert "Say how the value of ¥30,000,000 a year was estimated" in str(error)  # the same error, in English
    with pytest.raises(InvalidInputError) as caught:
        Initiative("大型案件", effort_weeks=2000)
    with using("ja"):
        assert "1,000人週を超える工数はPoCではありません" in str(caught.value)
        assert str(caught.value).startswith("施策「大型案件」は保存されていません")
        assert when(datetime(2026, 5, 1, 10, 42), now=datetime(2026, 6, 1)) == "2026年5月1日 10:42"


def test_criteria_are_described_and_judged_in_japanese_with_amounts_in_man_yen():
    savings = Criterion("yearly_savings_yen", ">=", 3.0, "yearly_running_cost")
    lower = Criterion("online_savings_lower", ">", 2_500_000)
    with using("ja"):
        assert savings.describe() == "年間削減額 ≥ 年間運用コストの3倍"
        assert lower.describe() == "オンライン削減額の95%下限（パイロット） > 250万円"
        assert Criterion("payback_months", "<=", 18).describe() == "投資回収期間 ≤ 18か月"
        assert Criterion("wape", "improves_by_at_least", 0.1, "practice").describe() == \
            "WAPEが現行の発注より10%以上改善（低下）"
        assert evaluate_criterion(savings, 12_000_000, 4_800_000) == (
            False, "年間削減額 1,200万円 < 年間運用コストの3倍（480万円 × 3 ＝ 1,440万円）（≥ではない）：未達。")
        with pytest.raises(CriterionError, match="現行の発注のWAPEの値がないため"):
            evaluate_criterion(Criterion("wape", "improves_by_at_least", 0.1, "practice"), 0.3, None)
        with pytest.raises(CriterionError, match="年間削減額は現行の発注と比較できません"):
            Criterion("yearly_savings_yen", ">=", 1.0, "practice")
    # A decision keeps the judgement as facts: stored in English, read in Japanese.
    passed, why = judge(lower, 3_000_000)
    stored = json.loads(json.dumps(to_json(why)))
    assert passed
    assert render(from_json(stored)) == "Online savings, 95% lower bound (pilot) ¥3,000,000 > ¥2,500,000: passed."
    with using("ja"):
        assert render(from_json(stored)) == "オンライン削減額の95%下限（パイロット） 300万円 > 250万円：達成。"
        assert render(to_json(savings.statement())) == "年間削減額 ≥ 年間運用コストの3倍"


def test_the_fixed_texts_translate_one_to_one():
    """A Japanese text of the product maps back to one English original, so a save in
    Japanese stores the original."""
    with using("ja"):
        for group in texts.GROUPS:
            originals = texts.originals(group)
            assert len({texts.shown(t, group) for t in originals}) == len(originals), group
            assert all(texts.stored(texts.shown(t, group), group) == t for t in originals), group
    assert texts.stored("田中（PM）", texts.PHASE) == "田中 Tanaka (PM)"
    # Only in its own kind of field: a project named 需要予測 keeps the name it was given.
    assert texts.stored("需要予測", texts.PROJECT) == "需要予測" and texts.stored("私のメモ", texts.PHASE) == "私のメモ"
    assert date(2026, 1, 5).weekday() == 0  # example.phases is read on a Monday in texts.originals
