"""Every file of the awkward corpus (tests/corpus.py) through the importer API, and a
representative subset through the Import page.

A file either imports and the warehouse then holds exactly the data it truly contains
(series, dates, values, frequency, and notes that say what was read how), or it is
refused cleanly: an ImportProblemError of one line, or problems in the report, each
with a message. Any other exception is a failure, and so is a silently wrong frame.

Run: ``.venv/bin/python -m pytest tests/test_corpus.py`` (``-k api``, ``-k page``,
``-k "dates and api"``, or one file: ``-k us_monthly``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.columns import DATE, TARGET, Freq
from core.data.importer import ColumnMapping, RawTable, Repairs, import_table, read_table, suggest_mapping, validate
from core.errors import ImportProblemError
from core.warehouse import Dataset, Warehouse
from tests.conftest import new_session
from tests.corpus import CASES, Case, Imported, Refused


def case_id(case: Case) -> str:
    return f"{case.kind}-{case.name}"


# ---------------------------------------------------------------------------------
# Running a file through the API
# ---------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What happened to one file: refused (where, and with which messages) or stored."""

    stage: str  # "read", "validate" or "stored"
    messages: list[str] = field(default_factory=list)
    problems: list = field(default_factory=list)  # the report's Problem objects
    notes: list[str] = field(default_factory=list)
    raw: RawTable | None = None
    dataset: Dataset | None = None
    stored: pd.DataFrame | None = None  # one column per key (in mapping order), then "date", "value"

    def describe(self) -> str:
        if self.stage != "stored":
            shown = [f"[{p.code} {p.count}] {p.message}" for p in self.problems] or self.messages
            return f"refused at {self.stage}: " + " | ".join(shown)
        frame = self.stored
        return (f"stored {self.dataset.n_series} {self.dataset.freq.label} series, {len(frame)} rows, "
                f"{frame['date'].min():%Y-%m-%d}..{frame['date'].max():%Y-%m-%d}, total {frame['value'].sum():,.6g}")


def notes_of(*sources) -> list[str]:
    """Notes from wherever core keeps them: the read table, the report, the stored dataset."""
    notes: list[str] = []
    for source in sources:
        for note in getattr(source, "notes", None) or ():
            if note not in notes:
                notes.append(str(note))
    return notes


def stored_frame(warehouse: Warehouse, dataset: Dataset) -> pd.DataFrame:
    table = warehouse.query(f"SELECT * FROM {dataset.table_name}")
    frame = pd.DataFrame({f"key{i}": table[k].astype(str) for i, k in enumerate(dataset.spec.keys)})
    frame["date"] = pd.to_datetime(table[DATE])
    frame["value"] = table[TARGET].astype(float)
    for column in dataset.spec.value_columns():
        frame[dataset.spec.original_names.get(column, column)] = table[column]
    return frame


@functools.cache
def read_and_suggest(index: int) -> tuple[RawTable | ImportProblemError, ColumnMapping | None]:
    """read_table and suggest_mapping once per file for all the tests below."""
    case = CASES[index]
    try:
        raw = read_table(case.data, case.file_name, **case.read)
    except ImportProblemError as refusal:
        return refusal, None
    return raw, suggest_mapping(raw.frame, raw.decimal_comma)  # as the Import page asks


def run_api(case: Case, warehouse: Warehouse) -> Outcome:
    """read_table -> suggest_mapping -> validate -> import_table, as far as the file gets."""
    raw, suggestion = read_and_suggest(CASES.index(case))
    if isinstance(raw, ImportProblemError):
        return Outcome("read", messages=[str(raw)])
    mapping = case.mapping or suggestion
    name = f"corpus {CASES.index(case)}"
    try:
        report = validate(raw, mapping, case.repairs, name=name)
    except ImportProblemError as refusal:
        return Outcome("validate", messages=[str(refusal)], problems=list(refusal.problems), raw=raw)
    if not report.ok:
        return Outcome("validate", messages=[p.message for p in report.problems], problems=list(report.problems),
                       notes=notes_of(raw, report), raw=raw)
    dataset = import_table(warehouse, raw, mapping, case.repairs, name=name)
    return Outcome("stored", notes=notes_of(raw, report, dataset), raw=raw, dataset=dataset,
                   stored=stored_frame(warehouse, dataset))


# ---------------------------------------------------------------------------------
# Checking an outcome against what is right
# ---------------------------------------------------------------------------------
def refusal_matches(refused: Refused, outcome: Outcome) -> bool:
    if outcome.stage == "stored" or (refused.stage and outcome.stage != refused.stage):
        return False
    pattern = re.compile(refused.message, re.I)
    if refused.codes:
        return any(p.code in refused.codes and (refused.count is None or p.count == refused.count)
                   and pattern.search(p.message) for p in outcome.problems)
    return any(pattern.search(m) for m in outcome.messages)


def check_clean_refusal(outcome: Outcome) -> None:
    """A refusal a user can act on: one line, no traceback, every problem with a message."""
    for message in outcome.messages:
        assert message.strip(), "unclear message: an empty refusal"
        assert "Traceback" not in message, f"unclear message: a traceback in the refusal: {message[:300]}"
    if outcome.stage == "read":
        message = outcome.messages[0]
        assert "\n" not in message.strip() and len(message) < 600, f"unclear message: not one line: {message[:600]!r}"
    for problem in outcome.problems:
        assert problem.message.strip(), f"unclear message: problem {problem.code} has no message"


def truth_frame(expected: Imported) -> pd.DataFrame:
    keys = [f"key{i}" for i in range(len(expected.truth[0][0]))]
    return pd.DataFrame([[*k, d, v] for k, d, v in expected.truth], columns=[*keys, "date", "value"])


def on_grid(dates: pd.Series, freq: Freq) -> pd.Series:
    """Dates as the period they stand for: a monthly date may be the 1st or the last of its month."""
    return dates.dt.to_period("M").astype(str) if freq is Freq.MONTHLY else dates.dt.strftime("%Y-%m-%d")


def check_imported(expected: Imported, outcome: Outcome) -> None:
    stored, dataset = outcome.stored, outcome.dataset
    keys = [c for c in stored.columns if c.startswith("key")]
    assert dataset.freq is expected.freq, f"wrong value: frequency {dataset.freq.label}, expected {expected.freq.label}"
    assert dataset.n_series == expected.series, f"wrong value: {dataset.n_series} series, expected {expected.series}"
    assert len(stored) == expected.rows, f"wrong value: {len(stored)} rows, expected {expected.rows}"
    assert stored["value"].sum() == pytest.approx(expected.total), \
        f"wrong value: total {stored['value'].sum():,.6g}, expected {expected.total:,.6g}"
    truth = truth_frame(expected)
    if expected.exact_dates:
        first, last = on_grid(stored["date"], expected.freq).agg(["min", "max"])
        want_first, want_last = on_grid(truth["date"], expected.freq).agg(["min", "max"])
        assert (first, last) == (want_first, want_last), \
            f"wrong value: dates {first}..{last}, expected {want_first}..{want_last}"
        got = stored.assign(date=on_grid(stored["date"], expected.freq))[[*keys, "date", "value"]]
        want = truth.assign(date=on_grid(truth["date"], expected.freq))
        merged = want.merge(got, on=[*keys, "date"], how="outer", suffixes=("", "_stored"), indicator=True)
        wrong = merged[(merged["_merge"] != "both") | ((merged["value"] - merged["value_stored"]).abs() > 1e-6)]
        assert wrong.empty, f"wrong value: {len(wrong)} (series, date) rows differ, e.g.\n{wrong.head(6).to_string()}"
    else:
        # Dates may move onto one weekly grid: each series keeps its values in order, on one weekday.
        for key, group in truth.groupby(keys):
            mine = stored[(stored[keys] == pd.Series(key, index=keys)).all(axis=1)].sort_values("date")
            assert mine["value"].tolist() == group["value"].tolist(), f"wrong value: series {key} values changed"
            steps = mine["date"].diff().dropna().dt.days.unique().tolist()
            assert steps == [7], f"wrong value: series {key} is not weekly after the move (steps {steps})"
        weekdays = sorted(stored["date"].dt.day_name().unique())
        assert len(weekdays) == 1, f"wrong value: weeks still on {weekdays}"
    for column, total in expected.column_totals.items():
        assert column in stored.columns, f"wrong value: column {column} not stored ({list(stored.columns)})"
        assert pd.to_numeric(stored[column]).sum() == pytest.approx(total), \
            f"wrong value: {column} totals {pd.to_numeric(stored[column]).sum():,.6g}, expected {total:,.6g}"
    if expected.raw_columns is not None:
        assert tuple(outcome.raw.frame.columns) == expected.raw_columns, \
            f"wrong value: columns read as {list(outcome.raw.frame.columns)!r}"
    for pattern in expected.notes:
        assert any(re.search(pattern, note, re.I) for note in outcome.notes), \
            f"no note matches /{pattern}/; notes: {outcome.notes}"


def check(case: Case, outcome: Outcome) -> None:
    expected = case.expected
    if outcome.stage != "stored":
        check_clean_refusal(outcome)
        if case.alternative and refusal_matches(case.alternative, outcome):
            return
        if isinstance(expected, Imported):
            pytest.fail(f"refused, expected {expected.describe()}; {outcome.describe()}")
        assert refusal_matches(expected, outcome), \
            f"refused otherwise than expected ({expected.describe()}); {outcome.describe()}"
        return
    if isinstance(expected, Refused):
        pytest.fail(f"wrong value: imported without a word, expected {expected.describe()}; {outcome.describe()}")
    check_imported(expected, outcome)


# ---------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus_warehouse(tmp_path_factory):
    """One temporary warehouse for the corpus; each file is stored under its own name."""
    warehouse = Warehouse(tmp_path_factory.mktemp("corpus") / "w.duckdb")
    yield warehouse
    warehouse.close()


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_api_import(case: Case, corpus_warehouse):
    """The right value through read_table -> suggest_mapping/mapping -> validate -> import_table."""
    check(case, run_api(case, corpus_warehouse))


SUGGESTED = [c for c in CASES if c.suggest and c.mapping is not None and isinstance(c.expected, Imported)]


@pytest.mark.parametrize("case", SUGGESTED, ids=case_id)
def test_api_suggested_mapping_is_the_right_one(case: Case):
    """What the page pre-fills is the mapping a person would choose for this file."""
    raw, suggestion = read_and_suggest(CASES.index(case))
    if isinstance(raw, ImportProblemError):  # judged by test_api_import: right only as the alternative
        assert case.alternative and refusal_matches(case.alternative, Outcome("read", [str(raw)])), \
            f"refused at read: {raw}"
        return
    roles = ("keys", "date", "target", "attributes", "exog_known", "exog_unknown", "stockout", "orders")
    got = {r: getattr(suggestion, r) for r in roles}
    want = {r: getattr(case.mapping, r) for r in roles}
    assert got == want, f"suggested {got}, expected {want}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_api_suggestion_and_every_offered_repair_work(case: Case):
    """The suggestion uses real columns once each and none of an unsupported type; validating it,
    then applying every repair the report offers (each option in turn, then all together), ends in
    a report or an ImportProblemError — never another exception, never an empty 'ready' frame."""
    raw, suggestion = read_and_suggest(CASES.index(case))
    if isinstance(raw, ImportProblemError):  # nothing to suggest; test_api_import judges the refusal
        return
    used = suggestion.used()
    assert set(used) <= set(raw.frame.columns), f"suggested columns that do not exist: {used}"
    assert len(used) == len(set(used)), f"suggested a column for two roles: {suggestion}"
    if isinstance(case.expected, Imported):
        unsupported = set(used) & set(case.expected.never_suggested)
        assert not unsupported, f"suggested unsupported column(s) {sorted(unsupported)}: {suggestion}"
    for mapping in {suggestion, case.mapping or suggestion}:
        try_every_repair(raw, mapping)


def try_every_repair(raw: RawTable, mapping: ColumnMapping) -> None:
    def attempt(repairs: Repairs):
        try:
            report = validate(raw, mapping, repairs)
        except ImportProblemError:
            return None
        if report.ok:
            assert len(report.frame) > 0, f"'ready' with an empty frame after {repairs}"
        for problem in report.problems:
            assert problem.message.strip(), f"problem {problem.code} without a message after {repairs}"
        return report

    report, repairs = attempt(Repairs()), Repairs()
    for _ in range(4):  # each round adds the repairs the last report offered
        offered = [p for p in (report.problems if report else ()) if p.repair]
        if not offered:
            return
        for problem in offered:
            for option in problem.options or (True,):
                attempt(replace(repairs, **{problem.repair: option}))
        repairs = replace(repairs, **{p.repair: (p.options or (True,))[0] for p in offered})
        report = attempt(repairs)


# ---------------------------------------------------------------------------------
# The Import page (AppTest), for a representative subset
# ---------------------------------------------------------------------------------
PAGE_CASES = [c for c in CASES if c.page]


def widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def choose_mapping(at: AppTest, mapping: ColumnMapping) -> AppTest:
    """Set the mapping widgets to the right mapping, as a user correcting Mitoshi's guess would."""
    widget(at.multiselect, "Series key (one or more)").set_value(list(mapping.keys))
    widget(at.selectbox, "Date").set_value(mapping.date)
    widget(at.selectbox, "Target (what to forecast)").set_value(mapping.target)
    widget(at.multiselect, "Series attributes").set_value(list(mapping.attributes))
    widget(at.multiselect, "Exogenous, known in advance").set_value(list(mapping.exog_known))
    widget(at.multiselect, "Exogenous, not known in advance").set_value(list(mapping.exog_unknown))
    return at.run()


def choose_repairs(at: AppTest, repairs: Repairs) -> AppTest:
    """Tick the repairs the case's user chose, where the page offers them."""
    for name, value in repairs.__dict__.items():
        if not value:
            continue
        for element in [*at.checkbox, *at.radio]:
            if (element.key or "").startswith(f"repair_{name}_"):
                element.set_value(value)
                at.run()
                break
    return at


def page_texts(at: AppTest) -> dict[str, list[str]]:
    return {kind: [e.value for e in getattr(at, kind)] for kind in ("error", "info", "success", "markdown", "warning")}


@pytest.mark.parametrize("case", PAGE_CASES, ids=case_id)
def test_page_import(case: Case, warehouse_env):
    """Upload the file on the Import page, correct the mapping, tick the case's repairs, press Import."""
    at = new_session("pages/import.py")
    at.file_uploader(key="upload").set_value((case.file_name, case.data, "application/octet-stream"))
    at.run()
    assert not at.exception, f"traceback on upload: {at.exception}"
    if case.read.get("sheet"):
        at.selectbox(key="sheet").set_value(case.read["sheet"]).run()
        assert not at.exception, f"traceback on choosing the sheet: {at.exception}"
    mapping_form = any(m.label == "Series key (one or more)" for m in at.multiselect)
    if case.mapping is not None and mapping_form:
        if case.suggest:
            prefilled = (widget(at.multiselect, "Series key (one or more)").value, widget(at.selectbox, "Date").value,
                         widget(at.selectbox, "Target (what to forecast)").value)
            right = (list(case.mapping.keys), case.mapping.date, case.mapping.target)
            assert prefilled == right, f"the page suggests keys, date, target {prefilled}, expected {right}"
        choose_mapping(at, case.mapping)
        assert not at.exception, f"traceback on mapping: {at.exception}"
    choose_repairs(at, case.repairs)
    assert not at.exception, f"traceback on repairs: {at.exception}"
    texts = page_texts(at)
    ready = [s for s in texts["success"] if s.startswith("Ready:")]
    refusal = Outcome("validate" if mapping_form else "read",
                      messages=texts["error"] + [m.strip("*") for m in texts["markdown"]])
    expected = case.expected
    if not ready:
        if case.alternative and refusal_matches(replace(case.alternative, codes=()), refusal):
            return
        assert isinstance(expected, Refused), \
            f"refused on the page, expected {expected.describe()}: {texts['error']} {texts['markdown'][-4:]}"
        assert texts["error"], "the page neither imports nor says why"
        assert refusal_matches(replace(expected, codes=()), refusal), \
            f"refused otherwise than expected ({expected.describe()}): {texts['error']} {texts['markdown'][-3:]}"
        import_buttons = [b for b in at.button if b.label == "Import"]
        assert all(b.disabled for b in import_buttons), "the Import button is enabled on a refused file"
        return
    assert isinstance(expected, Imported), f"wrong value: the page is ready to import, expected {expected.describe()}"
    summary = ready[0]
    want = f"{expected.series:,} {expected.freq.label} series, {expected.rows:,} rows"
    assert want in summary, f"wrong value: page says '{summary}', expected '{want}'"
    if expected.exact_dates and expected.freq is Freq.DAILY:
        assert f"{expected.start:%Y-%m-%d} → {expected.end:%Y-%m-%d}" in summary, f"wrong value: {summary}"
    for pattern in expected.notes:
        assert any(re.search(pattern, note, re.I) for note in texts["info"]), \
            f"the page shows no note matching /{pattern}/: {texts['info']}"
    widget(at.button, "Import").click().run()
    assert not at.exception, f"traceback on Import: {at.exception}"
    stored = [s for s in page_texts(at)["success"] if "is in the warehouse" in s]
    assert stored and f"{expected.series:,} series, {expected.rows:,} rows" in stored[0], \
        f"wrong value: {page_texts(at)['success']} {page_texts(at)['error']}"
    warehouse = Warehouse(warehouse_env)
    try:
        dataset = warehouse.list_datasets()[-1]
        total = warehouse.query(f"SELECT sum({TARGET}) AS total FROM {dataset.table_name}")["total"].iloc[0]
        assert total == pytest.approx(expected.total), f"wrong value: stored total {total:,.6g}"
    finally:
        warehouse.close()
