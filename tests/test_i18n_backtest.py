"""日本語 and English in the offline evaluation (issue 15): the Backtest page with a stored
run and the Experiments page comparing two runs in Japanese with no English left; model,
rung and metric names, charts and the engine's refusals in Japanese with their values; and
the accounting of a run kept as facts, so that a record of it (a decision's snapshot) reads
in either language, while the reasons a run stores stay English and read in both."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import fmt
from core.backtest import accounting
from core.backtest import charts as backtest_charts
from core.backtest import external
from core.backtest.engine import BacktestConfig, BacktestData, ModelSpec, run_backtest
from core.backtest.external import ExternalForecastError
from core.backtest.splits import SplitConfig
from core.backtest.store import load_result
from core.columns import Freq
from core.errors import MitoshiError
from core.forecast.base import rung_name
from core.i18n import from_json, render, to_json, using
from core.warehouse import Warehouse
from tests.conftest import japanese as _japanese
from tests.conftest import store_run
from tests.i18n_check import english_left

DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")



def _texts(elements) -> list[str]:
    return [e.value.replace("\\", "") for e in elements]


def _plotly_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec)["layout"]
        titles.append(layout.get("title", {}).get("text", ""))
    return titles


# ---------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------
def test_the_backtest_page_with_a_stored_run_reads_in_japanese(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    try:  # two stores: 4 series end before every cutoff, the same-period rule falls back (as the English tests)
        run_id = store_run(warehouse, ("S001", "S002"), ("practice", "snaive", "lastyear"), horizon=14,
                           name="二店舗の実験", folds=3)
    finally:
        warehouse.close()
    at = _japanese("pages/backtest.py", backtest_run_id=run_id)
    assert not at.error, _texts(at.error)
    left = english_left(at)
    assert left == [], "\n".join(left)
    assert at.title[0].value == "ラダーのバックテスト"
    assert at.subheader[0].value == "二店舗の実験"
    best = next(t for t in _texts(at.markdown) if t.startswith("最良のモデル:"))
    assert "WAPE" in best and best.endswith("。")
    board = at.dataframe[0].value
    assert set(board["モデル"]) == {"現行の発注", "季節ナイーブ", "前年同期"}
    assert set(board["段"]) == {"現行の発注", "ルール"}
    assert {"WAPE", "MASE", "計算時間（秒）", "対季節ナイーブ", "対現行の発注"} <= set(board.columns)
    accounted = next(i.value for i in at.info if "系列を除外" in i.value).replace("\\", "")
    assert "100系列中96系列を、少なくとも1つのフォールドで評価しました。" in accounted
    assert "すべてのフォールドで4系列を除外: 基準日より前に終了。" in accounted
    assert "前年同期は" in accounted and "季節ナイーブのルールに切り替えました（理由: 履歴が1年未満）" in accounted
    left_out = next(d.value for d in at.dataframe if "該当する系列" in d.value.columns and "フォールド" in d.value.columns)
    assert set(left_out["理由"]) == {"基準日より前に終了"}
    titles = _plotly_titles(at)
    assert "ラダー: 精度と手間（下・左ほど良い）" in titles
    assert "季節ナイーブに対するWAPEの削減率" in titles
    assert "何期先かごとのWAPE" in titles
    assert any(t.startswith("較正:") for t in titles)
    assert "#### 予測はどれだけ確かか？" in _texts(at.markdown)


def test_the_experiments_page_comparing_two_runs_reads_in_japanese(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    try:
        store_run(warehouse, ("S001",), ("snaive", "ma"), horizon=7, name="実行A")
        store_run(warehouse, ("S001",), ("snaive", "ma"), horizon=14, name="実行B")
    finally:
        warehouse.close()
    at = _japanese("pages/experiments.py")
    left = english_left(at)
    assert left == [], "\n".join(left)
    overview = at.dataframe[0].value
    assert set(overview["名前"]) == {"実行A", "実行B"} and set(overview["頻度"]) == {"日次"}
    assert set(overview["最良のモデル"]) <= {"季節ナイーブ", "移動平均"}
    assert any(c.startswith("保存済みの実行 2件 · 全体で最良のWAPE") for c in _texts(at.caption))

    with using("ja"):  # AppTest formats the widgets' values (model names) in this thread, in its language
        at.multiselect(key="exp_compare").set_value(["実行A", "実行B"]).run()
    assert not at.exception, at.exception
    left = english_left(at)
    assert left == [], "\n".join(left)
    assert "2件の実行を比較" in _texts(at.subheader)
    differences = at.dataframe[1].value
    assert differences.loc["予測期間（期間数）"].tolist() == ["7", "14"]
    warning = next(w for w in _texts(at.warning) if w.startswith("これらの実行は次の点が異なります"))
    assert "予測期間（実行A: 7、実行B: 14期間）" in warning
    assert DATE.search(warning)  # the shared cutoffs, as people read dates
    assert any("セグメント中" in t for t in _texts(at.markdown))
    dm = next(d.value for d in at.dataframe if "p値" in d.value.columns)
    assert set(dm["比較対象"]) == {"季節ナイーブ"} and set(dm["モデル"]) == {"移動平均"}
    assert set(dm["判定"]) <= {"有意に良い", "有意な改善なし"}
    assert next(b for b in at.button if b.label == "名前を変更")


# ---------------------------------------------------------------------------------
# Names, charts and messages
# ---------------------------------------------------------------------------------
def test_model_rung_and_rule_names_read_in_japanese_and_stay_english_by_default():
    assert fmt.model_name("snaive") == "Seasonal naive" and rung_name("statistical") == "statistical"
    with using("ja"):
        assert fmt.model_name("snaive") == "季節ナイーブ"
        assert fmt.model_name("ets") == "ETS（指数平滑法）" and fmt.model_name("lgbm") == "LightGBM"
        assert fmt.model_name("ext:Deep") == "Deep"  # a name its maker gave stays as it is
        assert [rung_name(r) for r in ("rule", "statistical", "simple model", "GBDT", "built elsewhere")] == [
            "ルール", "統計", "シンプルなモデル", "GBDT", "外部で作られたモデル"]
        assert accounting.rule_name("ses") == "単純指数平滑法"


def test_a_chart_has_its_title_axes_and_hover_in_japanese():
    gains = pd.Series({"snaive": 0.0, "ma": 0.12, "naive": -0.05})
    with using("ja"):
        figure = backtest_charts.improvement_bars(gains, "snaive")
    layout = figure.layout
    assert layout.title.text == "季節ナイーブに対するWAPEの削減率"
    assert layout.xaxis.title.text.replace("&#37;", "%") == "季節ナイーブに対するWAPEの削減率（%）"
    assert set(figure.data[0].y) == {"移動平均", "ナイーブ（直近の値）"}
    assert "WAPEが季節ナイーブより12.0%低い" in figure.data[0].customdata
    english = backtest_charts.improvement_bars(gains, "snaive")
    assert english.layout.title.text == "WAPE reduction against Seasonal naive"


def test_engine_refusals_read_in_japanese_with_their_values():
    with pytest.raises(MitoshiError) as caught:
        BacktestConfig(split=SplitConfig(horizon=7), models=())
    assert str(caught.value) == "Choose at least one model to backtest."
    with using("ja"):
        assert str(caught.value) == "バックテストするモデルを1つ以上選んでください。"

    days = pd.date_range("2025-01-01", periods=40, freq="D")
    frame = pd.DataFrame({"unique_id": "A", "ds": days, "y": 1.0})
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=3), models=(ModelSpec.of("naive"),))
    with pytest.raises(MitoshiError) as caught:
        run_backtest(BacktestData(frame=frame, freq=Freq.DAILY, name="短い"), config)
    assert "the first cutoff would be 2024-12-29" in str(caught.value)
    with using("ja"):
        message = str(caught.value)
    assert message.startswith("14期間の予測を3フォールド行うには履歴が短すぎます。")
    assert "最初の基準日が2024年12月29日となり" in message

    with pytest.raises(ExternalForecastError) as caught, using("ja"):
        external._effort("six")
    with using("ja"):
        assert str(caught.value) == ("工数は人週で、0以上の数で入力してください（例: 6）。入力値:「six」。わからない場合は"
                                     "空欄にしてください。 何も保存していません。")


# ---------------------------------------------------------------------------------
# The accounting as facts; stored reasons in English, read in both
# ---------------------------------------------------------------------------------
def test_stored_reasons_stay_english_and_read_in_japanese():
    assert accounting.reason_text("shorter than a season (7 periods)") == "shorter than a season (7 periods)"
    with using("ja"):
        assert accounting.reason_text("shorter than a season (7 periods)") == "1季節（7期間）より短い"
        assert accounting.reason_text(accounting.ENDED_EARLY) == "基準日より前に終了"
        assert accounting.reason_text("ETS (exponential smoothing): shorter than two seasons (14 periods)") == (
            "ETS（指数平滑法）: 2季節（14期間）より短い")
        assert accounting.reason_text("could not fit: no sale in its 56 training periods") == (
            "当てはめに失敗: 学習期間（56期間）に販売なし")
        assert accounting.reason_text("could not fit: Singular matrix") == "当てはめに失敗: Singular matrix"
        assert accounting.reason_text("a reason of an older Mitoshi") == "a reason of an older Mitoshi"


def test_a_runs_accounting_kept_as_facts_reads_in_either_language(warehouse_env):
    warehouse = Warehouse(warehouse_env)
    try:
        run_id = store_run(warehouse, ("S001", "S002"), ("snaive", "lastyear"), horizon=14, name="記録", folds=2)
        result = load_result(warehouse, run_id)
    finally:
        warehouse.close()
    english = result.accounting()
    stored = json.loads(json.dumps(to_json(result.accounting_facts()), ensure_ascii=False))  # as a snapshot keeps it
    facts = from_json(stored)
    assert [render(f) for f in facts] == english
    assert english[0] == "Scored 96 of 100 series in at least one fold."
    with using("ja"):
        japanese = [render(f) for f in facts]
        assert japanese == result.accounting()
    assert japanese[0] == "100系列中96系列を、少なくとも1つのフォールドで評価しました。"
    assert any(line.startswith("前年同期は") and "（理由: 履歴が1年未満）" in line for line in japanese)
    assert result.summary()["accounting"] == english  # the command line's JSON stays English
