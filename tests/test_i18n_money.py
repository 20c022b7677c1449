"""日本語 and English on the Money impact and Hand-off pages (issue 15): both pages, in the
states their page tests build, read in Japanese with no English left; yen in 万円, dates in
年月日; the money notes, labels and batch notes are facts that read in either language from
one result (the cached impact serves both), stored and read back; the batch CSV keeps the
machine column names."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import fmt
from core.backtest.engine import BacktestData
from core.backtest.store import get_run, list_runs
from core.columns import Freq
from core.i18n import Msg, from_json, render, to_json, using
from core.money.impact import ERRORS, Economics, ImpactConfig, ImpactInputError, money_impact, unit_yen
from core.warehouse import Warehouse
from tests import test_pages_handoff, test_pages_money
from tests.conftest import japanese as _japanese
from tests.conftest import finish_jobs, new_session
from tests.i18n_check import english_left, english_words

# The states the pages' own tests build (pytest fixtures, used here by name).
warehouse_with_run = test_pages_handoff.warehouse_with_run
demo_with_run = test_pages_money.demo_with_run
turnover_with_run = test_pages_money.turnover_with_run

MONEY = "pages/money.py"
HANDOFF = "pages/handoff.py"
SAMPLE = Path(__file__).parent / "data" / "decision_sample.json"
MAN = re.compile(r"^[−+]?\d[\d,.]*(万|億)円$")
DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")



def _texts(elements) -> str:
    return " ".join(e.value for e in elements)


# ---------------------------------------------------------------------------------
# The Money impact page
# ---------------------------------------------------------------------------------
def test_the_money_page_reads_in_japanese_with_yen_in_man_from_the_same_cached_impact(demo_with_run):
    english = new_session(MONEY)  # computes and caches the run's impact in English first
    savings_en = next(m for m in english.metric if m.label.startswith("Yearly savings · "))
    assert savings_en.value.startswith(("¥", "−¥"))

    with using("ja"):
        at = _japanese(MONEY)
        assert not at.error, [e.value for e in at.error]
        assert english_left(at) == []
        savings = next(m for m in at.metric if m.label.startswith("年間削減額 · "))
        assert MAN.match(savings.value), savings.value  # ¥4,65x,xxx → 465万円
        headline = _texts(at.markdown)
        assert re.search(r"\*\*年間[\d,.]+万円の(削減|損失)\*\*", headline), headline
        assert "バックテスト14日" in headline and "現行の発注と比べて" in headline
        notes = _texts(at.info)
        assert "フォールド内の" in notes and "系列×日のうち" in notes  # the censoring note, in Japanese
        assert "出典：販売単価はデータセットの「price」列" in _texts(at.caption)
        table = at.dataframe[-1].value  # a table for people: its headers are Japanese
        assert {"発注方法", "年間削減額", "欠品日数"} <= set(table.columns)
        assert "現行の発注" in table["発注方法"].tolist()
        rules = at.table[0].value
        assert rules.index.name == "モデル" and "利益が多いルール" in rules.columns


def test_turnover_counted_as_the_cost_of_errors_reads_in_japanese(turnover_with_run):
    with using("ja"):
        at = _japanese(MONEY)
        box = at.selectbox(key="money_run_select")
        box.select(next(o for o in box.options if "turnover rules" in o)).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert english_left(at, allowed={"turnover", "rules"}) == []  # the fixture's own names: the user's data
        # ¥14,725 a year at ¥1 a unit: 1.47万円, and the warning says so in Japanese.
        assert "1単位1円としたデータの年間合計：1.47万円" in _texts(at.caption)
        assert [w.value for w in at.warning if "1.47万円にしかならず" in w.value]
        assert "季節ナイーブ（前年の同じ月）の予測" in _texts(at.markdown)
        assert any(i.value.startswith("金額の計算方法：予測誤差のコスト（予測対象1単位の価値を1円とし") for i in at.info)


# ---------------------------------------------------------------------------------
# The Hand-off page
# ---------------------------------------------------------------------------------
def test_the_handoff_page_publishes_in_japanese_with_no_english_left(warehouse_with_run):
    with using("ja"):
        at = _japanese(HANDOFF)
        assert at.title[0].value == "本番への引き継ぎ"
        assert english_left(at) == []
        assert any("公開の対象外：" in c.value for c in at.caption)
        at.toggle(key="handoff_orders").set_value(True).run()  # each item at its profit-optimal level
        finish_jobs(next(b for b in at.button if b.label == "公開").click().run())
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert english_left(at) == []
        versions = at.dataframe[0].value
        assert versions["バージョン"].tolist() == [1] and versions["系列数"].tolist() == [48]
        assert versions["モデル"].tolist() == [fmt.model_name("ma")] == ["移動平均"]
        captions = _texts(at.caption)
        assert "実行の対象範囲のうち2系列は2026年10月31日に販売がなく" in captions  # a batch note, as a fact
        assert "発注数 = 予測＋安全係数 × バックテストでの系列のRMSE" in captions
        warning = next(w.value for w in at.warning if "過去の日付" in w.value)
        assert DATE.search(warning) and "2026年11月1日" in warning
        rows = at.dataframe[1].value
        assert {"store_id", "item_id", "日付", "予測", "発注数"} <= set(rows.columns)


def test_the_decision_banner_reads_in_japanese(warehouse_with_run):
    from core.decision import store as decisions
    from core.decision.verdict import Decision
    from core.money.impact import QUANTILE
    from core.planning import store as planning

    warehouse = Warehouse(warehouse_with_run)
    project = planning.ensure_example_project(warehouse)
    run = list_runs(warehouse)[0]
    sample = Decision.from_json(SAMPLE.read_text("utf-8"))
    decision = replace(sample, project_id=project.project_id, run_id=run.run_id, model="ext:SameWeekday4 mean",
                       verdict="CONDITIONAL GO", ordering_rule=QUANTILE, created_at="2026-11-30T17:26:42")
    decisions.save_decision(warehouse, decision)
    warehouse.close()

    with using("ja"):
        at = _japanese(HANDOFF)
        banner = next(i.value for i in at.info if "GO/NO-GO判断" in i.value)
        assert banner.startswith("この実行に対する2026年11月30日 17:26:42のGO/NO-GO判断")
        assert "**SameWeekday4 mean**について**条件付きGO**ですが、このモデルはMitoshiでは公開できません。" in banner
        assert at.toggle(key="handoff_orders").label == "発注数（モデルの分位点）"
        # The sample decision's project and the model made elsewhere are named by their users: their words stay.
        assert english_left(at, allowed={"demand", "forecasting", "mean"}) == []


# ---------------------------------------------------------------------------------
# Facts: one result, either language
# ---------------------------------------------------------------------------------
def _monthly_turnover():
    """Three monthly folds of 6 months of one turnover series (as tests/test_impact.py)."""
    dates = pd.date_range("2020-01-01", periods=60, freq="MS")
    frame = pd.DataFrame({"unique_id": "T", "industry": "T", "ds": dates, "y": 100.0 + np.arange(60) % 12})
    data = BacktestData(frame=frame, freq=Freq.MONTHLY, name="turnover", keys=("industry",))
    rows = []
    for cutoff in pd.date_range("2023-06-01", periods=3, freq="6MS"):
        for step in range(1, 7):
            ds = cutoff + pd.DateOffset(months=step)
            actual = float(frame.set_index("ds").loc[ds, "y"])
            rows += [{"unique_id": "T", "ds": ds, "cutoff": cutoff, "step": step, "actual": actual,
                      "model": model, "forecast": actual + delta} for model, delta in (("snaive", 2.0), ("m", -1.0))]
    return pd.DataFrame(rows), data


def test_a_money_note_reads_in_both_languages_from_one_result_and_after_storing():
    forecasts, data = _monthly_turnover()
    result = money_impact(forecasts, data, ImpactConfig(money_model=ERRORS))
    note = result.implausibly_small
    assert isinstance(note, Msg) and note in result.notes
    with using("en"):
        english = str(note)
        assert english.startswith("At ¥1 a unit, a whole year of this dataset is worth only ¥1.28K")
        assert str(result.baseline_label) == "seasonal naive (the same month last year) forecasts"
    with using("ja"):
        japanese = str(note)
        assert japanese.startswith("1単位1円とすると、このデータセットの1年分は1,278円にしかならず")
        assert english_words(japanese) == []
        assert str(result.baseline_label) == "季節ナイーブ（前年の同じ月）の予測"
        assert str(result.money_model_label).startswith("予測誤差のコスト（予測対象1単位の価値を1円とし、過小予測1単位はその30%＝0.3円")
        assert str(result.config.level_label) == "予測そのまま"
        assert render(result.sources["what one unit is worth"]) == "入力した設定（1円）"
    # What a decision snapshot keeps (JSON) reads the same in either language afterwards.
    stored = from_json(json.loads(json.dumps(to_json(result.notes), ensure_ascii=False)))
    with using("en"):
        assert [render(n) for n in stored] == [str(n) for n in result.notes]
    with using("ja"):
        assert [render(n) for n in stored] == [str(n) for n in result.notes]
        assert all(english_words(render(n)) == [] for n in stored)


def test_orderings_and_the_summarys_labels_are_facts():
    from tests.test_impact import ITEMS, forecasts, tiny

    result = money_impact(forecasts({"m": [4.0, 4.0]}), tiny(), ImpactConfig(service_level=0.95), items=ITEMS)
    orderings = dict(zip(result.summary["policy"], result.summary["ordering"], strict=True))
    with using("en"):
        assert str(orderings["m"]) == "95% service level" and str(orderings["practice"]) == "its recorded orders"
        assert str(result.config.level_label) == "a 95% service level"
        assert render(result.row("practice")["label"]) == "today's practice"
    with using("ja"):
        assert str(orderings["m"]) == "サービスレベル95%" and str(orderings["practice"]) == "記録された発注"
        assert str(result.config.level_label) == "サービスレベル95%"
        assert render(result.row("practice")["label"]) == "現行の発注"
        assert unit_yen(0.3) == "0.3円" and unit_yen(1e8) == "1.00億円"
        sources = {k: render(v) for k, v in result.sources.items()}
        assert sources["unit cost"] == "商品マスタ（unit_cost）"
        assert sources["unit price"] == "データセットの「price」列（各日の販売価格）"


def test_errors_of_the_money_and_the_hand_off_read_in_japanese(warehouse_with_run):
    from core.handoff.batch import PublishError, PublishOptions

    with pytest.raises(ImpactInputError) as error:
        Economics(unit_price=0.0, unit_cost=-1.0)
    with using("ja"):
        assert str(error.value) == "平均販売単価は0円より大きくしてください。平均原価は負の値にできません。"
    with using("en"):
        assert str(error.value) == "The average unit price must be above ¥0. The average unit cost cannot be negative."
    with pytest.raises(ImpactInputError) as error:
        ImpactConfig(service_level=0.999)
    with using("ja"):
        assert str(error.value) == "サービスレベルは5 %から99.5 %の間にしてください（入力値：99.9%）。"
    warehouse = Warehouse(warehouse_with_run)
    try:
        run = get_run(warehouse, list_runs(warehouse)[0].run_id)
        with pytest.raises(PublishError) as error:
            PublishOptions.from_run(run, "lgbm")
    finally:
        warehouse.close()
    with using("ja"):
        assert str(error.value).startswith("実行「S001 rules」は「lgbm」をバックテストしていません。")


def test_batch_notes_are_stored_as_facts_and_older_plain_notes_still_read(warehouse_with_run):
    from core.handoff import store as handoff_store
    from core.handoff.batch import PublishOptions, for_csv, prepare_batch

    warehouse = Warehouse(warehouse_with_run)
    try:
        run = get_run(warehouse, list_runs(warehouse)[0].run_id)
        batch = prepare_batch(warehouse, run.run_id, PublishOptions.from_run(run, "ma", service_level=0.9))
        version = handoff_store.publish_batch(warehouse, batch)
        stored = json.loads(warehouse.query("SELECT notes FROM forecast_batches WHERE version = ?",
                                            [version])["notes"].iloc[0])
        assert all(isinstance(n, dict) and "msg" in n for n in stored)  # facts, not sentences
        header = handoff_store.list_batches(warehouse, run.dataset_id).iloc[0]
        with using("en"):
            english = [render(n) for n in header["notes"]]
        with using("ja"):
            japanese = [render(n) for n in header["notes"]]
            # the CSV for the ordering system keeps the machine column names whatever the language
            columns = for_csv(handoff_store.batch_export(warehouse, run.dataset_id, version)).columns
        assert "2 series of the run's scope have no sales on 2026-10-31 (ended earlier) and are not forecast." \
            in english
        assert "実行の対象範囲のうち2系列は2026年10月31日に販売がなく（それ以前に終了）、予測していません。" in japanese
        assert any(n.startswith("発注数 = 予測＋1.28 × バックテストでの系列のRMSE（サービスレベル90.0%") for n in japanese)
        assert all(english_words(n) == [] for n in japanese)
        assert {"store_id", "item_id", "date", "forecast", "order_quantity", "model"} <= set(columns)
        # A batch published before notes were facts: its English text reads as it was written.
        warehouse.query("UPDATE forecast_batches SET notes = ? WHERE version = ?",
                        [json.dumps(["Fitted on 3 more days than the backtest saw."]), version])
        old = handoff_store.list_batches(warehouse, run.dataset_id).iloc[0]["notes"]
        with using("ja"):
            assert [render(n) for n in old] == ["Fitted on 3 more days than the backtest saw."]
    finally:
        warehouse.close()
