"""日本語 and English in the shared ground (issue 15): figures and periods as a Japanese reader
writes them, core's errors and stored text kept as facts that render in either language, the
Overview in Japanese with no English left, and the sidebar's language switch."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from streamlit.testing.v1 import AppTest

from core import fmt, periods
from core.columns import Freq
from core.errors import AppendOverlapError, DatasetExistsError, MitoshiError, WarehouseError
from core.i18n import M_, Fmt, Msg, from_json, render, to_json, using
from core.plotting import yen_tick
from core.warehouse import Warehouse, read_text, stored_text
from tests.conftest import TIMEOUT, new_session, small_frame
from tests.i18n_check import english_left


# ---------------------------------------------------------------------------------
# Figures and periods
# ---------------------------------------------------------------------------------
def test_figures_read_as_a_japanese_reader_writes_them():
    with using("ja"):
        assert fmt.yen(19_212_806) == "1,921万円"
        assert fmt.yen_short(1.23e9) == "12.3億円"
        assert fmt.yen(-5_000_000) == "−500万円"
        assert fmt.yen_change(2_500_000) == "+250万円"
        assert fmt.pp(0.023) == "+2.3ポイント"
        assert fmt.months(18) == "18か月"
        assert fmt.date("2026-11-30") == fmt.date(dt.date(2026, 11, 30)) == "2026年11月30日"
        assert fmt.date_range("2026-11-01", "2026-11-30") == "2026年11月1日〜2026年11月30日"
        assert fmt.no_change() == fmt.pp(0.0) == fmt.yen_change(0.2) == "変化なし"
        assert fmt.metric_name("stockout_rate") == "欠品率" and fmt.metric_name("wape") == "WAPE"
        assert fmt.metric_name("coverage_80") == "80 %予測区間のカバー率"
        assert fmt.policy_name("practice") == "現行の発注"
        assert fmt.times(2.8) == "2.8倍" and fmt.names(["Industry", "State"]) == "「Industry」、「State」"
        assert Freq.MONTHLY.text == "月次" and Freq.DAILY.label == "daily"  # the CLI's word stays
        assert [yen_tick(v) for v in (0, 1.5e5, 2.5e6, -5e6, 1.5e8)] == ["0円", "15万円", "250万円", "−500万円",
                                                                           "1.5億円"]
    # …and English stays as it was
    assert fmt.yen(19_212_806) == "¥19,212,806" and fmt.pp(0.023) == "+2.3 pp" and fmt.months(18) == "18 months"
    assert fmt.date("2026-11-30") == "2026-11-30" and fmt.no_change() == "no change"
    assert Freq.MONTHLY.text == "monthly" and yen_tick(0) == "¥0" and yen_tick(2.5e6) == "¥2.5M"
    assert fmt.times(2.8) == "2.8×" and fmt.names(["Industry", "State"]) == "'Industry', 'State'"


def test_periods_speak_japanese():
    with using("ja"):
        assert periods.span(Freq.DAILY, 54) == "54日"
        assert periods.span(Freq.DAILY, 1) == "1日"
        assert periods.span(Freq.MONTHLY, 18) == "18か月"
        assert periods.span(Freq.WEEKLY, 1040) == "1,040週"
        assert [periods.period_noun(f, plural=True) for f in Freq] == ["日", "週", "月"]
        assert periods.seasonal_naive_label(Freq.MONTHLY) == "季節ナイーブ（前年の同じ月）"
        assert periods.out_of_stock(Freq.WEEKLY) == "欠品週数"
        assert periods.per_period(Freq.DAILY) == "1日あたり"
    assert periods.span(Freq.DAILY, 1) == "1 day" and periods.span(Freq.DAILY, 54) == "54 days"
    assert periods.seasonal_naive_label(Freq.DAILY) == "seasonal naive (the same weekday last week)"


# ---------------------------------------------------------------------------------
# Errors and stored text as facts
# ---------------------------------------------------------------------------------
def test_a_warehouse_error_carries_its_values_into_either_language(warehouse, small_spec):
    warehouse.create_dataset(small_spec, small_frame())
    with pytest.raises(DatasetExistsError) as raised:
        warehouse.create_dataset(small_spec, small_frame())
    error = raised.value  # raised in English; read later in the reader's language
    assert isinstance(error, WarehouseError) and isinstance(error.args[0], Msg)
    assert str(error) == "A dataset called 'small' already exists. Choose another name, or delete the old one first."
    with using("ja"):
        assert str(error) == "「small」という名前のデータセットは既にあります。別の名前を付けるか、先に古いものを削除してください。"

    made = MitoshiError(M_("There are no rows to append to '{name}'.", name="需要"))
    assert str(made) == "There are no rows to append to '需要'."
    with using("ja"):
        assert str(made) == "「需要」に追加する行がありません。"


def test_an_overlap_error_dates_its_rows_in_the_readers_language(warehouse, small_spec):
    dataset = warehouse.create_dataset(small_spec, small_frame())
    with pytest.raises(AppendOverlapError) as raised:
        warehouse.append_rows(dataset.dataset_id, small_frame().head(3))
    assert raised.value.overlap == 3 and raised.value.first == dt.date(2025, 1, 1)
    assert "(2025-01-01 to 2025-01-03)" in str(raised.value)
    with using("ja"):
        assert str(raised.value).startswith("追加する行のうち3行は、「small」に既にある系列と日付です（2025年1月1日〜2025年1月3日）。")


def test_messages_round_trip_through_json_nested():
    inner = M_("{name} · {n:,} series · {freq}", name="AI商店", n=1500, freq=Msg("daily"))
    message = M_("{n:,} of the rows to append have a series and date '{name}' already holds ({first} to {last}). "
                 "Append only the new dates, or choose to replace the stored rows with these.",
                 n=12, name=inner, first=Fmt("date", dt.date(2026, 11, 1)), last=Fmt("date", "2026-11-30"))
    stored = json.dumps(to_json({"why": [message, "plain text", 3]}), ensure_ascii=False)
    back = from_json(json.loads(stored))
    assert back["why"][1:] == ["plain text", 3]
    again = back["why"][0]
    assert isinstance(again, Msg) and isinstance(again.params["name"], Msg)
    assert again.params["first"] == Fmt("date", "2026-11-01") and to_json(again) == to_json(message)
    assert render(again) == render(message) == (
        "12 of the rows to append have a series and date 'AI商店 · 1,500 series · daily' already holds (2026-11-01 to "
        "2026-11-30). Append only the new dates, or choose to replace the stored rows with these.")
    with using("ja"):
        assert render(again) == ("追加する行のうち12行は、「AI商店 · 1,500系列 · 日次」に既にある系列と日付です"
                                 "（2026年11月1日〜2026年11月30日）。新しい日付だけを追加するか、保存済みの行をこれらで"
                                 "置き換えるかを選んでください。")
    assert render("an old plain sentence") == "an old plain sentence"


def test_a_datasets_source_description_and_notes_are_stored_as_facts(warehouse, small_spec):
    from dataclasses import replace

    source = M_("{name} · {n:,} series · {freq}", name="POS", n=6, freq=Msg("daily"))
    spec = replace(small_spec, source=source, description=Fmt("date", "2026-11-30"))
    note = M_("There are no rows to append to '{name}'.", name="small")
    dataset = warehouse.create_dataset(spec, small_frame(), notes=[note, "filled 2 gaps"])
    again = warehouse.get_dataset(dataset.dataset_id)
    assert again.spec.source == source and again.spec.description == Fmt("date", "2026-11-30")
    assert again.notes == (note, "filled 2 gaps")
    with using("ja"):
        assert render(again.spec.source) == "POS · 6系列 · 日次" and render(again.spec.description) == "2026年11月30日"
        assert [render(n) for n in again.notes] == ["「small」に追加する行がありません。", "filled 2 gaps"]
        unnamed = replace(again, spec=replace(again.spec, original_names={}))  # a file that named neither
        assert (unnamed.label("ds"), unnamed.label("y"), unnamed.label("store")) == ("日付", "予測対象", "store")
    # plain text, as an older warehouse or a file's name keeps it, reads as it is
    assert read_text("imported: sales.csv") == stored_text("imported: sales.csv") == "imported: sales.csv"
    longer = small_frame(days=71)
    appended = warehouse.append_rows(dataset.dataset_id, longer[longer["ds"] == longer["ds"].max()], source=note)
    assert appended.n_rows == 6
    assert warehouse.list_appends(dataset.dataset_id)["source"].tolist() == [note]


# ---------------------------------------------------------------------------------
# The Overview and the language switch
# ---------------------------------------------------------------------------------
def _session(lang: str | None, page: str = "pages/home.py") -> AppTest:
    return new_session(page, lang=lang)


@pytest.fixture
def overview_env(warehouse_env):
    """The demo chain, its source a message stored as facts (as the data step keeps it)."""
    warehouse = Warehouse(warehouse_env)
    dataset = warehouse.list_datasets()[0]
    source = M_("{name} · {n:,} series · {freq}", name="AI商店", n=dataset.n_series, freq=Msg("daily"))
    warehouse.query("UPDATE datasets SET source = ? WHERE dataset_id = ?", [stored_text(source), dataset.dataset_id])
    warehouse.close()
    return dataset


def _texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [m.label for m in at.metric] + [m.value for m in at.metric])


def test_the_overview_in_japanese(overview_env):
    at = _session("ja")
    assert english_left(at) == []
    assert at.title[0].value == "Mitoshi 見通し"
    text = _texts(at)
    assert "**1 · データと現状調査**" in text and "**2–3 · 課題定義・施策・計画**" in text
    assert f"AI商店 · {overview_env.n_series:,}系列 · 日次" in text  # the stored source, rendered
    assert "系列数" in text and fmt.count(overview_env.n_series) in text
    with using("ja"):
        assert fmt.date(overview_env.end_date) in text and "年" in fmt.date(overview_env.end_date)
    assert [e.label for e in at.expander] == ["背景にある考え方（「機械学習を実用化するエンジニアリングスキル」Developers Summit 2023）"]


def test_the_language_comes_from_the_address(overview_env):
    at = _session("ja-JP")  # a browser's form of the code is read too
    assert at.session_state["lang"] == "ja" and at.query_params["lang"] == "ja"
    assert at.markdown[0].value.startswith("**この機械学習のPoCは")
    english = _session(None)  # no address, no cookie, no browser language: English
    assert english.session_state["lang"] == "en" and english.query_params["lang"] == "en"
    assert english.markdown[0].value.startswith("**Is this machine-learning PoC worth taking to production?**")


def test_the_sidebar_switch_changes_the_language_and_the_address(overview_env):
    at = _session("ja")
    switch = at.segmented_control(key="lang_switch")
    assert switch.value == "ja" and switch.options == ["日本語", "English"]
    switch.select("en").run()
    assert not at.exception, at.exception
    assert at.query_params["lang"] == "en" and at.session_state["lang"] == "en"
    assert at.markdown[0].value.startswith("**Is this machine-learning PoC worth taking to production?**")
    assert "**1 · Data and current state (現状調査)**" in _texts(at)
    assert [m.label for m in at.metric] == ["Series", "Rows", "From", "To"]
    assert at.metric[3].value == overview_env.end_date.isoformat()
    # …kept on the next page, and back to 日本語
    at.switch_page("pages/home.py")
    at.run()
    assert at.session_state["lang"] == "en" and at.metric[0].label == "Series"
    at.segmented_control(key="lang_switch").select("ja").run()
    assert at.query_params["lang"] == "ja" and at.metric[0].label == "系列数"
    assert english_left(at) == []


def _callbacks_script():
    import streamlit as st

    from core.i18n import _, language
    from ui import i18n

    def plain():
        st.session_state["plain"] = language()

    def spoken():
        st.session_state["spoken"] = _("Dismiss")

    i18n.choose()
    st.button("plain", on_click=plain)
    st.button("spoken", on_click=spoken)


def test_a_callback_speaks_the_sessions_language():
    at = AppTest.from_function(_callbacks_script, default_timeout=TIMEOUT)
    at.query_params["lang"] = "ja"
    at.run()
    at.button[0].click().run()
    at.button[1].click().run()
    assert not at.exception, at.exception
    # Streamlit runs a callback before the script chose the language, in a thread of its own: it
    # speaks the session's language all the same (core.i18n's fallback, registered by ui.i18n)
    assert at.session_state["plain"] == "ja"
    assert at.session_state["spoken"] == "閉じる"


# ---------------------------------------------------------------------------------
# Every catalog
# ---------------------------------------------------------------------------------
def test_every_catalog_is_complete():
    from core.i18n import catalogs

    assert catalogs.problems() == []


def _punct(char: str) -> bool:
    import unicodedata

    return unicodedata.category(char)[0] in "PS"


def unrendered_bold(text: str) -> list[str]:
    """``**…**`` spans that CommonMark (Streamlit's markdown) leaves as literal asterisks: a closing
    ``**`` after punctuation must be followed by a space or punctuation, which Japanese rarely is
    (``**AI商店（AI Shop）**です`` shows its asterisks); the same for an opening one before punctuation."""
    import re

    text = re.sub(r"\{[^{}]*\}", "X", text)  # a placeholder's value: a name or a figure
    bad = []
    for match in re.finditer(r"\*\*(?=\S)(.+?)\*\*", text):
        start, end = match.start(), match.end()
        before, first = text[start - 1] if start else " ", text[start + 2]
        last, after = text[end - 3], text[end] if end < len(text) else " "
        opens = not first.isspace() and (not _punct(first) or before.isspace() or _punct(before))
        closes = not last.isspace() and (not _punct(last) or after.isspace() or _punct(after))
        if not (opens and closes):
            bad.append(match.group(0))
    return bad


def test_unrendered_bold_finds_what_commonmark_leaves_as_asterisks():
    assert unrendered_bold("小売チェーン**AI商店（AI Shop）**です") == ["**AI商店（AI Shop）**"]
    assert unrendered_bold("小売チェーン「**AI商店（AI Shop）**」です") == []
    assert unrendered_bold("**1 · データと現状調査**") == [] and unrendered_bold("**{name}**です") == []


def test_every_translation_in_bold_renders_bold():
    from core.i18n import catalogs

    bad = {}
    for domain in catalogs.DOMAINS:
        for message in catalogs._read(catalogs._paths(domain)[1]):
            for text in (message.string if isinstance(message.string, tuple) else (message.string,)):
                if text and unrendered_bold(text):
                    bad[message.id if isinstance(message.id, str) else message.id[0]] = unrendered_bold(text)
    assert bad == {}


def test_date_axes_read_as_japanese_dates_and_numbers_stay_numbers():
    import pandas as pd
    import plotly.graph_objects as go

    from core.plotting import base_layout

    def chart(x):
        return base_layout(go.Figure(go.Scatter(x=x, y=[1, 2, 3])), "t", "x", "y")

    days = pd.Series(pd.date_range("2026-11-01", periods=3))
    with using("ja"):
        stops = {s.value for s in chart(days).layout.xaxis.tickformatstops}
        assert stops == {"%-m月%-d日", "%Y年%-m月", "%Y年"}
        assert {s.value for s in chart(["2026-11-01", "2026-11-02", "2026-11-03"]).layout.xaxis.tickformatstops} == stops
        assert chart([1, 2, 3]).layout.xaxis.tickformatstops == ()  # horizons, not dates
    assert chart(days).layout.xaxis.tickformatstops == ()  # English keeps Plotly's ticks
