"""What users type is text: a project, initiative, dataset, run, owner or note that holds
Markdown or HTML is shown as typed on every page, in every chart and in the PDF, and
CSV downloads neutralise cells that a spreadsheet would run as formulas."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pypdf
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import app_test

from core.data.charts import totals_over_time
from core.decision import store as decisions
from core.decision.pdf import decision_pdf
from core.planning import store as planning
from core.planning.initiatives import Initiative
from core.planning.plan import PhaseStatus
from core.text import chart_label, csv_bytes, md, neutralise_formulas
from core.warehouse import Warehouse
from tests.conftest import new_session, small_frame, store_run

IMG = "![x](http://evil.example/x.png)"
LINK = '<a href="http://evil.example">click</a>'
# What must never reach Markdown unescaped: an image, a link, an HTML tag, a web address
# that GFM would link (md escapes the brackets and "<", and breaks "http:" with a joiner).
RAW = re.compile(r"!\[|(?<!\\)\]\(|(?<!\\)<[a-zA-Z/!]|https?\\?:")


# ---------------------------------------------------------------------------------
# The mechanism
# ---------------------------------------------------------------------------------
def test_md_escapes_what_markdown_and_streamlit_would_read():
    assert md(IMG) == "!\\[x\\](http\u2060\\://evil.example/x.png)"
    assert md(LINK) == '\\<a href="http\u2060\\://evil.example"\\>click\\</a\\>'
    assert md("**b** _i_ `c` ~~s~~ $x$ a|b #h &amp; :red[r] :material/home:") == (
        "\\*\\*b\\*\\* \\_i\\_ \\`c\\` \\~\\~s\\~\\~ \\$x\\$ a\\|b \\#h \\&amp; \\:red\\[r\\] \\:\u2060material/home\\:")
    # A block opens only at the start of a line; elsewhere the text stays as it is.
    assert md("- a\n1. b\n+ c\n===\n    code") == "\\- a  \n1\\. b  \n\\+ c  \n\\===  \n\u00a0\u00a0\u00a0\u00a0code"
    assert md("Saved version 2, 2025-01-01 (S001).") == "Saved version 2, 2025-01-01 (S001)."
    # Bare addresses are not linked: an invisible word joiner breaks GFM's patterns.
    assert md("www.evil.example a@evil.example") == "www\u2060.evil.example a@\u2060evil.example"


def test_chart_label_escapes_plotly_html_and_templates():
    assert chart_label(LINK) == '&lt;a href="http://evil.example"&gt;click&lt;/a&gt;'
    assert chart_label("<b>%{y}</b> & <br>") == "&lt;b&gt;&#37;{y}&lt;/b&gt; &amp; &lt;br&gt;"
    assert chart_label(IMG) == IMG  # nothing Plotly reads
    frame = pd.DataFrame({"grp": [LINK, LINK], "period": pd.to_datetime(["2025-01-01", "2025-01-02"]), "y": [1, 2]})
    fig = totals_over_time(frame, LINK, "daily")
    assert fig.data[0].name == chart_label(LINK)
    assert fig.layout.title.text.startswith(chart_label(LINK))
    assert "<a " not in fig.data[0].hovertemplate


def test_csv_neutralises_formula_leading_text_and_keeps_numbers():
    frame = pd.DataFrame({
        "store": ["=1+1", "+81-3", "-5", "@SUM(A1)", "\tx", "\rx", "渋谷", None],
        "units": [-5, 1, 2, 3, 4, 5, 6, 7],
        "forecast": [-5.5, 0.25, 0.0, 1.0, 2.0, 3.0, 4.0, None],
        "date": pd.date_range("2025-01-01", periods=8),
    })
    safe = neutralise_formulas(frame)
    assert safe["store"].tolist()[:7] == ["'=1+1", "'+81-3", "'-5", "'@SUM(A1)", "'\tx", "'\rx", "渋谷"]
    assert pd.isna(safe["store"].iloc[7])
    pd.testing.assert_frame_equal(safe.drop(columns="store"), frame.drop(columns="store"))
    assert frame["store"].iloc[0] == "=1+1"  # the caller's frame is untouched
    text = csv_bytes(frame).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text))
    assert back["store"].iloc[:4].tolist() == ["'=1+1", "'+81-3", "'-5", "'@SUM(A1)"]
    assert back["units"].iloc[0] == -5 and back["forecast"].iloc[0] == -5.5
    assert text.splitlines()[1].startswith("'=1+1,-5,-5.5,2025-01-01")
    assert csv_bytes(frame).startswith("\ufeff".encode())  # Excel reads 渋谷 as UTF-8
    assert list(neutralise_formulas(pd.DataFrame(columns=["=cmd", "ok"])).columns) == ["'=cmd", "ok"]


# ---------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------
MARKDOWN_ELEMENTS = {"markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success",
                     "toast"}


def markdown_texts(at) -> list[str]:
    """Every string the page handed to Streamlit's Markdown: element bodies, labels,
    help, metric values, radio and segmented options (select box options are plain)."""
    texts: list[str] = []

    def walk(node) -> None:
        kind = getattr(node, "type", "")
        if kind in MARKDOWN_ELEMENTS:
            texts.append(node.value)
        proto = getattr(node, "proto", None)
        fields = proto.DESCRIPTOR.fields_by_name if proto is not None and hasattr(proto, "DESCRIPTOR") else {}
        texts.extend(getattr(proto, name) for name in ("label", "help") if name in fields)
        if kind == "metric":
            texts.extend([node.value, node.proto.delta])
        elif kind == "radio":
            texts.extend(node.proto.options)
        elif kind == "button_group":
            texts.extend(node.options)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [t for t in texts if t]


def chart_texts(at) -> list[str]:
    """Every string in the page's Plotly figures."""
    out: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return out


def assert_shown_as_text(at, *typed: str) -> None:
    """No Markdown string holds raw image, link or HTML syntax; each ``typed`` value is
    in one of them, escaped."""
    assert not at.exception, at.exception
    texts = markdown_texts(at)
    raw = [t for t in texts if RAW.search(t)]
    assert not raw, raw
    for value in typed:
        assert any(md(value) in t for t in texts), (value, texts)


def assert_charted_as_text(at, *typed: str) -> None:
    texts = chart_texts(at)
    assert texts, "no chart on the page"
    assert not [t for t in texts if "<a " in t or "</a>" in t]
    for value in typed:
        assert any(chart_label(value) in t for t in texts), value


@pytest.fixture
def hostile(warehouse_env):
    """The demo warehouse where users typed Markdown and HTML everywhere: the dataset and
    the project are named IMG, the project's description, an initiative, a phase owner
    and a run are LINK, and a decision on that run has both in its notes and risks."""
    warehouse = Warehouse(warehouse_env)
    dataset = warehouse.list_datasets()[0]
    warehouse.rename_dataset(dataset.dataset_id, IMG)
    project = planning.ensure_example_project(warehouse)
    pid = project.project_id
    planning.update_project(warehouse, project, IMG, LINK, [dataset.dataset_id], project.run_ids)
    planning.add_initiatives(warehouse, pid, [Initiative(LINK, description=IMG, effort_weeks=2, impact_yen=9e8)])
    phase = planning.list_phases(warehouse, pid)[0]
    planning.save_phase(warehouse, pid, phase, replace(phase.item, owner=LINK, notes=IMG, status=PhaseStatus.IN_PROGRESS,
                                                       start=date.today(), end=date.today() + timedelta(days=14)))
    run_id = store_run(warehouse, ("S001",), ("practice", "snaive"), horizon=7, name=LINK)
    from core.decision.evaluation import decide

    decide(warehouse, pid, run_id, model="snaive", notes=f"{IMG} {LINK}", risks=[IMG, LINK])
    planning.remember_project(warehouse, pid)
    warehouse.close()
    return warehouse_env


def test_pages_show_names_and_notes_as_text(hostile):
    at = new_session("pages/home.py")
    assert_shown_as_text(at, IMG)  # the current dataset
    for page, typed in (("pages/projects.py", (IMG, LINK)),  # name, description
                        ("pages/problem.py", (IMG,)),  # the linked dataset
                        ("pages/import.py", (IMG,)),  # "Delete **…**"
                        ("pages/experiments.py", (LINK, IMG)),  # the run and, opened, its dataset
                        ("pages/report.py", (IMG, LINK)),  # project, run, dataset, notes, risks
                        ("pages/handoff.py", (IMG,)),  # the decision's project
                        ("pages/data.py", ()),
                        ("pages/backtest.py", ()),
                        ("pages/money.py", ())):
        at.switch_page(page)
        at.run()
        assert_shown_as_text(at, *typed)


def test_planning_pages_and_their_charts_show_initiatives_and_owners_as_text(hostile):
    at = new_session("pages/effort-impact.py")
    assert_shown_as_text(at, LINK)  # the ranking names the initiative
    assert_charted_as_text(at, LINK)  # …and so does the map
    at.switch_page("pages/poc-plan.py")
    at.run()
    assert_shown_as_text(at, LINK)  # "Now: … (in progress, LINK)" and the ladder's run
    assert_charted_as_text(at, LINK)  # the owner on the timeline


def test_the_decision_pdf_prints_what_was_typed(hostile):
    warehouse = Warehouse(hostile)
    decision = decisions.get_decision(warehouse, decisions.list_decisions(warehouse)[0].decision_id)
    warehouse.close()
    assert decision.project_name == IMG and decision.run_name == LINK
    pdf = decision_pdf(decision)
    text = re.sub(r"\s+", "", "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    for typed in (IMG, LINK, f"{IMG} {LINK}"):
        assert re.sub(r"\s+", "", typed) in text
    assert text.count(re.sub(r"\s+", "", LINK)) >= 3  # run, notes, risks


def test_data_page_charts_key_values_as_text(warehouse_env, small_spec):
    frame = small_frame(stores=2, items=2)
    frame["store"] = frame["store"].map({"S0": LINK, "S1": "=1+1"})
    warehouse = Warehouse(warehouse_env)
    warehouse.create_dataset(replace(small_spec, name=LINK), frame)
    warehouse.close()
    at = new_session("pages/data.py")
    assert_shown_as_text(at)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Split by")).set_value("store").run()
    assert_shown_as_text(at)
    assert_charted_as_text(at, LINK)


@pytest.fixture
def downloads(monkeypatch):
    """Reads what a download button of the last AppTest run would send."""
    stores: list[MemoryMediaFileStorage] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, endpoint: str) -> None:
            super().__init__(endpoint)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recording)
    return lambda button: stores[-1].get_file(button.proto.url.rsplit("/", 1)[-1]).content


def test_csv_downloads_neutralise_formulas(warehouse_env, downloads):
    warehouse = Warehouse(warehouse_env)
    for name in ("=1+1", "+81-3", "-5", "@SUM(A1)"):
        store_run(warehouse, ("S001",), ("practice", "snaive"), horizon=7, name=name)
    warehouse.close()
    at = new_session("pages/experiments.py")
    button = next(b for b in at.get("download_button") if b.proto.label == "Download the runs as CSV")
    runs = pd.read_csv(io.BytesIO(downloads(button)), encoding="utf-8-sig")
    assert sorted(runs["Name"]) == sorted(["'=1+1", "'+81-3", "'-5", "'@SUM(A1)"])
    assert (runs["Series"] == 50).all() and runs["Best WAPE"].between(0, 1).all()  # numbers stay numbers

    leaderboard = next(b for b in at.get("download_button") if b.proto.label == "Download the leaderboard as CSV")
    board = pd.read_csv(io.BytesIO(downloads(leaderboard)), encoding="utf-8-sig")
    assert set(board["Model"]) == {"Today's practice", "Seasonal naive"}
    # Metrics stay numbers (a negative bias too): only text columns could be prefixed.
    assert list(board.select_dtypes(exclude="number").columns) == ["Model", "Rung"]
