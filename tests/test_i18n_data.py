"""日本語 and English in the data step (issue 15): the Data page and the Import & manage page in
Japanese with no English left, import and append refusals that carry their values into the
reader's language, and a dataset's stored notes, description and source kept as facts that
read in either language — while an older warehouse's plain English still shows."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import fmt
from core.columns import TARGET
from core.data.demo import REFERENCE_END_DATE, DemoConfig, generate_chain, store_chain
from core.data.importer import ColumnMapping, import_table, read_table, validate, validate_append
from core.data.labels import column_label
from core.errors import ImportProblemError
from core.i18n import Msg, render, using
from core.warehouse import Warehouse
from tests.conftest import japanese as _japanese
from tests.i18n_check import english_left


def _english(at: AppTest, *names: str) -> list[str]:
    """``english_left``, less the column names of a file or of the warehouse that the page
    shows as they are (user data: a table's headers, a problem naming the columns a file
    needs), such as the demo chain's 'date', 'units sold' and 'ordered'."""
    allowed = {word for name in names for word in name.split()}
    return [left for left in english_left(at, allowed) if not any(left.startswith(f"{name!r}:") for name in names)]


def _titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def _legends(at: AppTest) -> set[str]:
    return {t.get("name") for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]}


def _shown(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
                     + [s.value for s in at.success] + [w.value for w in at.warning] + [e.value for e in at.error])


# ---------------------------------------------------------------------------------
# The Data page
# ---------------------------------------------------------------------------------
def test_the_data_page_in_japanese(warehouse_env):
    at = _japanese("pages/data.py")
    assert _english(at, "ordered") == []  # the rows as stored, under the warehouse's column names
    assert at.title[0].value == "データと現状調査"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["系列数"] == "500" and metrics["欠品率"].endswith("%") and metrics["発注数"] != ""
    titles = _titles(at)
    assert "週次の販売数" in titles and "現行の発注と販売数の比較（週次）" in titles
    assert "曜日別の販売数（指数、100＝グループの平均）" in titles
    assert {"販売数", "発注数（現行の発注）", "欠品の系列×日"} <= _legends(at)
    over_time = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["xaxis"]
    assert over_time["hoverformat"] == "%Y年%-m月%-d日"  # dates on the axis and in the hover as 年月日
    assert [stop["value"] for stop in over_time["tickformatstops"]] == ["%-m月%-d日", "%Y年%-m月", "%Y年"]
    shown = _shown(at)
    with using("ja"):
        first = fmt.date(REFERENCE_END_DATE - pd.Timedelta(days=3 * 365 - 1))
    assert f"**日次、{first} → 2026年10月31日**" in shown  # the dataset's span, as a Japanese reader writes it
    assert "生成：AI商店デモ（シード=42、10店舗 × 50商品 × 3年）" in shown  # the stored source, rendered
    assert "- 生成したデモデータです。実在する店舗の販売ではありません。" in shown  # the stored notes, rendered
    assert [e.label for e in at.expander] == ["このデータセットについて", "データ品質"]
    assert [t.label for t in at.tabs] == ["推移", "季節性", "販促", "現行の発注", "1つの系列", "行とマスタ"]

    # Split by store: the ten stores are more than the eight shown, the rest summed as その他.
    dataset_id = at.selectbox(key="dataset_select").value
    at.selectbox(key=f"by_{dataset_id}").select("store_id").run()
    assert not at.exception, at.exception
    assert _english(at, "ordered") == []
    assert "その他" in _legends(at) and "Other" not in _legends(at)
    assert any("上位のグループを表示し" in c.value for c in at.caption)


def test_an_older_warehouses_plain_english_still_shows(warehouse_env):
    """A dataset stored before its texts were facts: its source, description and notes are
    plain English and read as they are, on a page in Japanese too."""
    warehouse = Warehouse(warehouse_env)
    dataset = warehouse.list_datasets()[0]
    warehouse.query("UPDATE datasets SET source = ?, description = ?, notes = ? WHERE dataset_id = ?",
                    ["imported: old.csv", "An old description.",
                     json.dumps(["Filled 3 missing daily period(s) with 0."]), dataset.dataset_id])
    old = warehouse.get_dataset(dataset.dataset_id)
    warehouse.close()
    assert old.notes == ("Filled 3 missing daily period(s) with 0.",) and old.spec.source == "imported: old.csv"
    with using("ja"):
        assert render(old.notes[0]) == "Filled 3 missing daily period(s) with 0."
    at = _japanese("pages/data.py")
    shown = _shown(at)
    assert "- Filled 3 missing daily period(s) with 0." in shown  # as stored
    assert "imported: old.csv" in shown.replace("\\", "") and "An old description." in shown
    assert at.title[0].value == "データと現状調査"  # everything else in Japanese


# ---------------------------------------------------------------------------------
# The Import & manage page
# ---------------------------------------------------------------------------------
def _sales_csv(drop_day: bool = True) -> bytes:
    frame = pd.DataFrame({
        "店舗": ["渋谷"] * 60 + ["梅田"] * 60,
        "日付": list(pd.date_range("2025-01-01", periods=60).strftime("%Y/%m/%d")) * 2,
        "販売数": list(range(60)) * 2,
    })
    return (frame.drop(index=[5]) if drop_day else frame).to_csv(index=False).encode("cp932")


def test_the_import_tab_in_japanese_from_a_problem_to_the_import(warehouse_env):
    at = _japanese("pages/import.py")
    assert english_left(at) == []
    assert at.title[0].value == "データセットの取り込みと管理"
    assert [t.label for t in at.tabs] == ["ファイルの取り込み", "新しい行の追加", "データセットの管理", "デモチェーンの生成"]
    assert at.text_input[-1].value == "AI商店 デモ（シード 7）"  # the demo's default name, in the reader's language
    assert at.dataframe[0].value.columns.tolist() == ["名前", "出所", "頻度", "系列数", "行数", "開始日", "終了日",
                                                      "保存日時"]
    assert at.dataframe[0].value["出所"].tolist() == ["生成：AI商店デモ（シード=42、10店舗 × 50商品 × 3年）"]
    assert at.dataframe[0].value["頻度"].tolist() == ["日次"]

    at.file_uploader(key="upload").set_value(("売上.csv", _sales_csv(), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert english_left(at) == []
    assert any(e.value.startswith("1件の問題があるため取り込めません。") for e in at.error)
    assert "**1系列の中で日次の期間が1個欠けています（行のない日付）。" in _shown(at)
    examples = next(d.value for d in at.dataframe if "欠けている期間" in d.value.columns)
    assert examples.columns.tolist() == ["店舗", "日付", "ファイル内の次の日付", "欠けている期間"]
    assert any(i.value.replace("\\", "") == "「売上.csv」をShift_JIS（CP932、日本語版Excel）として読み込みました。"
               for i in at.info)
    assert next(b for b in at.button if b.label == "取り込み").disabled

    fill = next(r for r in at.radio if r.key.startswith("repair_fill_gaps"))
    assert fill.label == "欠けている期間"
    assert fill.options == ["修正しない（取り込まない）", "欠けている期間を0で埋める", "欠けている期間を補間する"]
    fill.set_value("zero").run()
    assert english_left(at) == []
    assert any(i.value == "欠けていた日次の期間1個を0で埋めました。" for i in at.info)
    assert any(s.value == "準備完了：日次の2系列、120行、2025年1月1日 → 2025年3月1日。" for s in at.success)
    next(b for b in at.button if b.label == "取り込み").click().run()
    assert not at.exception, at.exception
    assert english_left(at) == []
    assert any(s.value == "「売上」をウェアハウスに保存しました：2系列、120行。" for s in at.success)

    # The import's notes are stored as facts: the Data page reads them in Japanese, and in English.
    warehouse = Warehouse(warehouse_env)
    imported = warehouse.find_dataset("売上")
    warehouse.close()
    assert all(isinstance(note, Msg) for note in imported.notes)
    assert "Filled 1 missing daily period(s) with 0." in [render(n) for n in imported.notes]
    with using("ja"):
        assert "欠けていた日次の期間1個を0で埋めました。" in [render(n) for n in imported.notes]
        assert render(imported.spec.source) == "取り込み：売上.csv（cp932）"
    assert render(imported.spec.source) == "imported: 売上.csv (cp932)"


def test_the_manage_tab_renames_in_japanese(warehouse_env):
    at = _japanese("pages/import.py")
    next(t for t in at.text_input if t.label == "新しい名前").set_value("AI商店 デモ")
    next(b for b in at.button if b.label == "名前を変更").click().run()
    assert not at.exception, at.exception
    assert "AI商店 デモ" in at.dataframe[0].value["名前"].tolist()
    next(b for b in at.button if b.label == "削除").click().run()
    assert any(w.value == "確認のため「削除する」にチェックを入れてください。" for w in at.warning)
    assert english_left(at) == []


def test_the_append_tab_in_japanese_refuses_with_the_columns_it_needs_then_extends_the_demo(warehouse_env):
    at = _japanese("pages/import.py", import_tab="新しい行の追加")
    assert english_left(at) == []
    assert any("なし" in c.value or "まだありません" in c.value for c in at.caption)
    frame = pd.DataFrame({"shop": ["渋谷"] * 3, "date": ["2030-01-01", "2030-01-02", "2030-01-03"],
                          "units sold": [1, 2, 3]})
    at.file_uploader(key="append_upload").set_value(("other.csv", frame.to_csv(index=False).encode(), "text/csv"))
    at.run()
    assert not at.exception, at.exception
    assert _english(at, "date", "units sold") == []  # the file's columns, and the demo's it needs
    assert any(e.value.startswith("1件の問題があるため追加できません。") for e in at.error)
    assert ("**ファイルに列 'store\\_id', 'item\\_id' がありません。「AI Shop demo chain」で各行の位置を決めるのに必要です"
            in _shown(at))

    at.file_uploader(key="append_upload").set_value(None)
    at.number_input(key="extend_days").set_value(3)
    at.run()
    button = next(b for b in at.button if b.key == "extend_demo")
    assert button.label == "デモチェーンを3日延長"
    button.click().run()
    assert not at.exception, at.exception
    assert _english(at, "date", "units sold") == []
    done = next(s.value for s in at.success)
    assert re.fullmatch(r"[\d,]+行（[\d,]+系列）を追加しました：2026年11月1日 → 2026年11月3日。「AI Shop demo chain」は"
                        r"[\d,]+行、500系列、2023年11月2日 → 2026年11月3日になりました。", done), done
    history = next(d.value for d in at.dataframe if "置き換えた行" in d.value.columns)
    assert history["出所"].tolist() == ["デモ生成器：さらに3日"]  # the append's stored source, rendered


# ---------------------------------------------------------------------------------
# Core: refusals with their values, stored notes as facts
# ---------------------------------------------------------------------------------
def _csv(frame: pd.DataFrame, name: str = "売上.csv"):
    return read_table(frame.to_csv(index=False).encode(), name)


def test_an_import_refused_in_japanese_names_its_column(warehouse):
    frame = pd.DataFrame({"店舗": ["渋谷"] * 60, "日付": pd.date_range("2025-01-01", periods=60).strftime("%Y-%m-%d"),
                          "販売数": range(60)})
    mapping = ColumnMapping(keys=("店舗",), date="日付", target="数量")
    with pytest.raises(ImportProblemError) as raised:
        import_table(warehouse, _csv(frame), mapping)
    error = raised.value  # raised once; read in either language
    assert str(error) == "The file has no column(s) ['数量']. Pick columns that exist in the file."
    with using("ja"):
        assert str(error) == "ファイルに列 ['数量'] がありません。ファイルにある列を選んでください。"

    frame["メモ"] = "確認済み"
    wrong = ColumnMapping(keys=("店舗",), date="メモ", target="販売数")  # the dates taken from the wrong column
    problem = validate(_csv(frame), wrong).problems[0]
    assert problem.code == "not_a_date" and problem.message.startswith("Column 'メモ' does not look like a date: 100%")
    with using("ja"):
        assert problem.message.startswith("列「メモ」は日付に見えません。値の100%を日付として読めません")
    with pytest.raises(ImportProblemError) as raised:
        import_table(warehouse, _csv(frame), wrong)
    with using("ja"):
        assert str(raised.value).startswith("取り込みませんでした：列「メモ」は日付に見えません。")


def test_an_append_refused_in_japanese_names_the_columns_and_the_dataset(warehouse):
    config = DemoConfig(stores=2, items=5, years=1, seed=3, end_date=REFERENCE_END_DATE, name="小さなチェーン")
    dataset = store_chain(warehouse, generate_chain(config), config)
    frame = pd.DataFrame({"store_id": ["S001"], "item_id": ["I0001"], "date": ["2026-11-01"], "price": [100]})
    report = validate_append(warehouse, dataset, _csv(frame, "week.csv"))
    assert report.problems[0].code == "missing_columns"
    assert report.problems[0].message.startswith("The file has no column 'units sold', which '小さなチェーン' needs")
    with using("ja"):
        assert report.problems[0].message.startswith(
            "ファイルに列 'units sold' がありません。「小さなチェーン」で各行の位置を決めるのに必要です")
    late = pd.DataFrame({"store_id": ["S001"], "item_id": ["I0001"], "date": ["2026-11-09"], "units sold": [3],
                         "price": [100], "promo": [0], "holiday": [0], "stockout": [0], "ordered": [4]})
    report = validate_append(warehouse, dataset, _csv(late, "late.csv"))
    assert report.problems[0].code == "gap_after_end"
    with using("ja"):
        assert "2026年11月1日から2026年11月8日まで行がありません" in report.problems[0].message


def test_the_demos_notes_description_and_source_read_in_either_language_from_one_row(warehouse):
    config = DemoConfig(stores=2, items=5, years=1, seed=3, end_date=REFERENCE_END_DATE, name="小さなチェーン")
    stored = store_chain(warehouse, generate_chain(config), config)
    dataset = warehouse.get_dataset(stored.dataset_id)  # read back from the warehouse
    assert all(isinstance(note, Msg) for note in dataset.notes) and isinstance(dataset.spec.description, Msg)
    english = [render(note) for note in dataset.notes]
    with using("ja"):
        japanese = [render(note) for note in dataset.notes]
        description = render(dataset.spec.description)
        source = render(dataset.spec.source)
        unit = column_label(dataset, TARGET)
    assert english[0] == "Generated demo data: nothing here is a real shop's sales."
    assert japanese[0] == "生成したデモデータです。実在する店舗の販売ではありません。"
    share = english[1].removeprefix("Sales were capped by the stock on the shelf on ").split(" ")[0]
    assert share.endswith("%") and japanese[1].startswith(f"店舗×商品×日の{share}で、販売数が棚の在庫で頭打ちになりました")
    assert japanese[2] == ("「ordered」は現行の発注です：直近3週の同じ曜日の最大販売数＋10%（切り上げ、棚に最低1個）から、"
                           "持ち越した在庫を引いた数です。")
    assert render(dataset.spec.source) == "generated: AI Shop demo (seed=3, 2 stores x 5 items x 1 years)"
    assert source == "生成：AI商店デモ（シード=3、2店舗 × 5商品 × 1年）"
    assert "直近3週の同じ曜日の最大販売数に10%を上乗せ" in description
    assert render(dataset.spec.description).startswith("AI Shop (AI商店), a generated Japanese convenience chain")
    # The demo's target keeps its stored name (files to append name it so); people read it in their language.
    assert dataset.label(TARGET) == "units sold" == column_label(dataset, TARGET) and unit == "販売数"
