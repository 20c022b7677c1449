"""日本語 and English in the online evaluation (issue 15): the Pilot page with a designed,
simulated and read-out pilot and the Forecast watch page in Japanese with no English left;
the readout's promise beside the measurement in 万円; refusals with their values; and the
notes a readout stores kept as facts, so a stored readout (and the decision's online
evidence) reads in either language, while readouts stored before in plain English still read."""

from __future__ import annotations

import re
from datetime import date

import pytest

from core.i18n import Msg, from_json, render, to_json, using
from core.pilot.design import DesignOptions, EarlierPilot, PilotDesignError, check_earlier_pilots
from core.pilot.evidence import PROFIT, READ, WASTE_COST, Estimate, OnlineEvidence, measure_label
from core.pilot.readout import PilotReadout, ReadoutInputError, effect_sentence, promise_message, read_out
from core.pilot.store import online_evidence
from core.planning import store as planning
from core.warehouse import Warehouse
from tests import test_monitor
from tests.conftest import japanese as _japanese
from tests.i18n_check import english_left
from tests.test_pages_pilot import _read_out_past_pilot
from tests.test_pilot_readout import DURING, PRE, hand_panel

# The Forecast watch's states, as its page tests build them (fixtures of tests/test_monitor.py).
demo_watched = test_monitor.demo_watched
pilot_watched = test_monitor.pilot_watched
# Words that stay: the backtest run's name as its user typed it ("ma two stores"), and the authors the
# readout's assumptions cite (Bertrand, Duflo & Mullainathan 2004).
RUN_NAME = {"ma", "two", "stores", "Bertrand", "Duflo", "Mullainathan"}
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
MAN = re.compile(r"\d[\d,.]*(万|億)?円")



def _texts(elements) -> list[str]:
    return [e.value.replace("\\", "") for e in elements]


# ---------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------
def test_the_pilot_page_with_a_read_out_pilot_reads_in_japanese(warehouse_env):
    _read_out_past_pilot(warehouse_env)
    at = _japanese("pages/pilot.py")
    assert not at.error, _texts(at.error)
    assert english_left(at, RUN_NAME) == [], english_left(at, RUN_NAME)
    assert at.title[0].value == "パイロット（オンライン評価）"
    assert [m.label for m in at.metric][:4] == ["期間", "実施店舗・対照店舗", "最小検出効果", "検出したい効果"]
    assert at.metric[0].value == "2週間" and MAN.search(at.metric[3].value)
    # The offline promise beside the online measurement, in 万円, as the headline of the readout
    headline = next(t for t in _texts(at.markdown) if t.startswith("#### バックテストの見込みは年間"))
    assert "パイロットの測定値は" in headline and "95%信頼区間" in headline and MAN.search(headline)
    estimates = at.dataframe[1].value  # after the pairs
    assert list(estimates.columns) == ["指標", "実施店舗1店舗1日あたりの効果", "チェーン全体の年間効果",
                                       "95%信頼区間（年間）", "p値"]
    assert list(estimates["指標"]) == ["利益", "廃棄ロス額", "機会損失額（粗利）", "欠品（商品×日）"]
    assert estimates["チェーン全体の年間効果"].iloc[-1].endswith("商品×日")
    assert any(t.startswith("2026年11月1日〜2026年11月14日のパイロット")
               or "2026年11月1日〜2026年11月14日" in t for t in _texts(at.caption) + _texts(at.markdown))
    assert "パイロットは2026年11月1日〜2026年11月14日に実施しました。14日分すべてがデータにあります。" in _texts(at.markdown)

    # A new design over the pilot's days is refused, in Japanese with its dates and counts
    with using("ja"):  # AppTest formats the widgets' values (the run picker's format_func) in the test's language
        next(b for b in at.button if b.label == "パイロットを設計").click().run()
    assert not at.exception
    [refusal] = _texts(at.error)
    assert refusal.startswith("このパイロットの事前期間（") and "以前のパイロット（2026年11月1日〜2026年11月14日" in refusal
    assert english_left(at, RUN_NAME) == [], english_left(at, RUN_NAME)


def _designed_with_a_batch(warehouse_env) -> None:
    """The example project's one-week pilot of S001 and S002, designed and saved, with a 7-day batch of a
    moving average published for it and none of its days run (as tests/test_pages_pilot.py builds it)."""
    from dataclasses import replace

    from core.backtest.store import get_run
    from core.handoff import store as handoff_store
    from core.handoff.batch import PublishOptions, prepare_batch
    from core.money.impact import Economics
    from core.pilot.design import design_pilot, pilot_history
    from core.pilot.store import save_design
    from tests.conftest import store_run

    warehouse = Warehouse(warehouse_env)
    try:
        planning.ensure_example_project(warehouse)
        project = planning.list_projects(warehouse)[0]
        planning.remember_project(warehouse, project.project_id)
        run_id = store_run(warehouse, ("S001", "S002"), ("practice", "ma"), horizon=7, name="ma two stores")
        handoff_store.publish_batch(warehouse, prepare_batch(warehouse, run_id, PublishOptions.from_run(
            get_run(warehouse, run_id), "ma", horizon=7, service_level=0.9)))
        dataset = warehouse.list_datasets()[0]
        history = pilot_history(warehouse, dataset, "store_id", 28, Economics())
        design = design_pilot(history, DesignOptions(treated=2, pinned=("S001", "S002"), weeks=1, pre_weeks=4,
                                                     smallest_effect_yearly=5e6),
                              project.project_id, dataset.dataset_id, "store_id", 6e6, "ma")
        save_design(warehouse, replace(design, design_id=None))
    finally:
        warehouse.close()


def test_a_designed_pilot_is_run_in_japanese(warehouse_env):
    _designed_with_a_batch(warehouse_env)
    at = _japanese("pages/pilot.py")
    assert not at.error, _texts(at.error)
    assert english_left(at, RUN_NAME) == [], english_left(at, RUN_NAME)
    assert [m.value for m in at.metric][4:] == ["7日中0日", "2026年10月31日", "v1 · 2026年11月7日まで"]
    assert "パイロットは2026年11月1日〜2026年11月7日（7日間）の予定です。まだどの日もデータにありません。" in _texts(at.markdown)
    assert next(b for b in at.button if b.label == "パイロットの結果を集計").disabled
    with using("ja"):
        next(b for b in at.button if b.label == "デモチェーンでパイロットをシミュレーション").click().run()
    assert not at.exception and not at.error, _texts(at.error)
    done = next(t for t in _texts(at.success) if t.startswith("7日分（2026年11月1日〜2026年11月7日）をシミュレーション"))
    assert "3,360行を追加しました" in done and re.search(r"1日あたり[+−]?[\d,.]+(万)?円変わりました", done)
    assert english_left(at, RUN_NAME) == [], english_left(at, RUN_NAME)


def test_the_forecast_watch_reads_in_japanese(demo_watched):
    at = _japanese("pages/monitoring.py")
    assert not at.error, _texts(at.error)
    assert english_left(at) == []
    assert at.title[0].value == "予測モニタリング"
    warnings = _texts(at.warning)
    assert any(w.startswith("2026年11月2日の週：WAPE ") and w.endswith("予測がドリフトしています。") for w in warnings)
    weeks = at.dataframe[0].value
    assert weeks["期間"].tolist() == ["2026年10月26日の週", "2026年11月2日の週", "2026年11月9日の週"]
    assert weeks["状況"].tolist() == ["完了", "途中", "実績なし"]
    assert weeks["1店舗1日あたり利益"].iloc[1].endswith("円")
    assert any(t.startswith("これまでの実現額：延べ7店舗日") for t in _texts(at.markdown))


def test_the_forecast_watch_of_a_pilots_stores_reads_in_japanese(pilot_watched):
    at = _japanese("pages/monitoring.py")
    assert not at.error, _texts(at.error)
    assert english_left(at) == []
    scope = at.radio(key="watch_scope_" + at.selectbox(key="watch_dataset").value + "_1")
    assert scope.options == ["パイロットの実施店舗 S001, S003（2026年11月1日〜2026年11月14日のパイロット）",
                             "バッチ予測の全店舗"]
    assert any("1店舗（S001）の記録された結果です" in t for t in _texts(at.markdown))


# ---------------------------------------------------------------------------------
# The readout's sentences and refusals
# ---------------------------------------------------------------------------------
MEASURED = Estimate(PROFIT, 3835.6, 14e6, 6e6, 22e6, 0.004)


def test_the_promise_beside_the_measurement_reads_in_man_yen():
    message = promise_message(MEASURED, 19e6)
    assert str(message) == ("The backtest said ¥19.0M a year; the pilot measured ¥14.0M (95% interval "
                            "¥6.00M–¥22.0M).")
    with using("ja"):
        assert str(message) == ("バックテストの見込みは年間1,900万円で、パイロットの測定値は1,400万円です"
                                "（95%信頼区間：600万円〜2,200万円）。")
        assert str(promise_message(MEASURED)) == "パイロットの測定値は年間1,400万円です（95%信頼区間：600万円〜2,200万円）。"
        unsure = Estimate(PROFIT, 0, 3e6, -2e6, 8e6, 0.4)
        assert str(promise_message(unsure, 19e6)).endswith("（95%信頼区間：−200万円〜800万円）。")
        waste = Estimate(WASTE_COST, -575.3, -2.1e6, -3.4e6, -0.8e6, 0.001)
        assert effect_sentence(waste) == "廃棄ロス額は年間210万円減りました（95%信頼区間：80.0万円〜340万円の減少）。"
        assert measure_label(PROFIT) == "利益"
    # the same fact, stored and read back, in either language
    stored = from_json(to_json(message))
    assert stored == message
    with using("ja"):
        assert str(stored).startswith("バックテストの見込みは年間1,900万円")


def test_refusals_carry_their_values_into_japanese():
    with pytest.raises(PilotDesignError) as raised:
        DesignOptions(treated=1, power=0.3)
    with using("ja"):
        assert str(raised.value) == (
            "パイロットには実施店舗が2店舗以上必要です（指定値：1）。1店舗では効果に信頼区間を付けられません。 "
            "検出力は50 %以上100 %未満にしてください（指定値：30.0%）。通常は80 %です。")
    assert str(raised.value).startswith("A pilot needs at least 2 treated stores (got 1)")

    earlier = (EarlierPilot(date(2026, 11, 1), date(2026, 11, 14), ("S001", "S002"), "simulated"),)
    with pytest.raises(PilotDesignError) as raised:
        check_earlier_pilots(earlier, date(2026, 11, 10), 14, 28, "AI Shop demo chain")
    with using("ja"):
        assert str(raised.value) == (
            "2026年11月10日からのパイロット期間が、「AI Shop demo chain」での以前のパイロット（2026年11月1日〜"
            "2026年11月14日（実施店舗 S001, S002））と重なっています。同じ日に1つの店舗が2つのパイロットに参加する"
            "ことはできません。新しいパイロットは以前のパイロットの後に始めてください。")

    panel = hand_panel()
    panel = panel[~((panel["store"] == "C2") & (panel["ds"] == panel["ds"].max()))]
    with pytest.raises(ReadoutInputError) as raised:
        read_out(panel, ["T1"], ["C1", "C2"], PRE, DURING, chain_stores=10)
    assert raised.value.stores == ("C2",)  # the page offers to leave it out
    days = len(set(hand_panel()["ds"]))
    with using("ja"):
        assert str(raised.value) == (f"集計する日ごとに、各店舗の行が必要ですが、C2（{days}日中1日）の日が欠けています。"
                                     "欠けている日を追加するか、その店舗を除いてください。")


# ---------------------------------------------------------------------------------
# Stored facts
# ---------------------------------------------------------------------------------
def test_a_stored_readout_and_its_evidence_read_in_either_language(warehouse_env):
    _read_out_past_pilot(warehouse_env)
    warehouse = Warehouse(warehouse_env)
    try:
        evidence = online_evidence(warehouse, planning.list_projects(warehouse)[0].project_id)
    finally:
        warehouse.close()
    assert evidence.status == READ and evidence.notes and all(isinstance(n, Msg) for n in evidence.notes)
    assert isinstance(evidence.offline_ordering, Msg) and str(evidence.offline_ordering) == "a 90% service level"
    # the decision snapshot keeps OnlineEvidence.to_dict: the notes go in as facts and come back the same
    again = OnlineEvidence.from_dict(evidence.to_dict())
    assert again == evidence
    note = str(evidence.notes[-1])
    assert note.startswith("The treated stores ordered from batch v1, Moving average at a 90% service level")
    with using("ja"):
        assert str(again.notes[-1]).startswith("実施店舗はバッチ予測v1（移動平均（サービスレベル90%））で発注しました。")
        assert "万円" in str(again.notes[-1])
        assert str(again.offline_ordering) == "サービスレベル90%"


def test_readouts_stored_before_notes_were_facts_still_read():
    old = {"overall": [], "per_store": [], "balance": [], "pre_trend": [], "treated": ["S001"],
           "control": ["S002", "S003"], "pre": ["2026-10-04", "2026-10-31"], "during": ["2026-11-01", "2026-11-14"],
           "chain_stores": 10, "notes": ["With one control store no treated store's own effect can be given an "
                                         "interval.", "An old note no catalog knows."]}
    readout = PilotReadout.from_dict(old)
    assert readout.notes == tuple(old["notes"])
    assert [render(n) for n in readout.notes] == old["notes"]
    evidence = OnlineEvidence.from_dict({"status": READ, "notes": old["notes"], "offline_ordering": "the bare forecast"})
    assert evidence.notes == tuple(old["notes"]) and evidence.offline_ordering == "the bare forecast"
    assert OnlineEvidence.from_dict(evidence.to_dict()) == evidence
    from ui.pilot import said  # the page translates an old note a catalog knows, and shows the rest as written

    with using("ja"):
        assert said(old["notes"][0]) == "対照店舗が1店舗だけなので、実施店舗ごとの効果には信頼区間を付けられません。"
        assert said(old["notes"][1]) == "An old note no catalog knows."
