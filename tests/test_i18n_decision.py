"""日本語 and English (issue 15): a decision keeps facts, not sentences, so the same
snapshot reads in either language — whatever language it was taken in — and an older
snapshot, which kept English sentences, still reads."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from pathlib import Path

import pytest

from core.backtest.engine import BacktestConfig, ModelSpec, dataset_data, run_backtest
from core.backtest.splits import SplitConfig
from core.backtest.store import save_run
from core.data.demo import REFERENCE_END_DATE, DemoConfig, load_demo
from core.decision import online as pilot
from core.decision import store as decisions
from core.decision.evaluation import decide
from core.decision.verdict import (
    CHECKS,
    CONDITIONAL_GO,
    GO,
    NO_GO,
    SNAPSHOT_FORMAT,
    Decision,
    DecisionError,
    in_words,
    kpi_measure,
    verdict_label,
)
from core.i18n import Msg, render, using
from core.pilot.evidence import DESIGNED, PROFIT, READ, STOCKOUT_DAYS, WASTE_COST, Estimate, OnlineEvidence
from core.planning import example
from core.planning import store as planning
from core.planning.definition import ProblemDefinition
from core.warehouse import Warehouse
from tests.i18n_check import english_words

SAMPLE = Path(__file__).parent / "data" / "decision_sample.json"  # a format-1 snapshot: English sentences
MANUAL = {c.key: 1.0 for c in CHECKS if not c.auto}
# Names that stay in every language: the data's own columns ("category", "price"), the ML Test Score (a
# paper's name) and p of a p-value.
KEPT = {"category", "price", "test", "score", "p"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

TREATED = ("S001", "S002")
CONTROL = tuple(f"S{i:03d}" for i in range(3, 11))
DESIGN = OnlineEvidence(status=DESIGNED, design_id="d1", dataset_id="ds", store_column="store_id", treated=TREATED,
                        control=CONTROL, start=date(2026, 11, 2), end=date(2026, 11, 29), chain_stores=10,
                        offline_yearly_savings=19_200_000.0, offline_model="ets", batch_version=1, batch_model="ets",
                        detectable_yearly=9_660_000.0, power=0.8, alpha=0.05)
READOUT = dataclasses.replace(DESIGN, status=READ, readout_id="r1", estimates=(
    Estimate(PROFIT, 14e6 / 3650, 14_000_000.0, 6_000_000.0, 22_000_000.0, 0.004),
    Estimate(WASTE_COST, -2.9e6 / 3650, -2_900_000.0, -4_100_000.0, -1_700_000.0, 0.0002),
    Estimate(STOCKOUT_DAYS, 5762.0 / 3650, 5762.0, 564.0, 10_960.0, 0.034),
))


@pytest.fixture(scope="module")
def taken(tmp_path_factory):
    """The example project (its criteria, KPI, value and online plan) on a small chain with
    one run, decided in English before the pilot and after its readout — and once more in
    Japanese — all stored in the warehouse."""
    warehouse = Warehouse(tmp_path_factory.mktemp("i18n_decision") / "wh.duckdb")
    dataset = load_demo(warehouse, DemoConfig(stores=2, items=8, years=1, seed=5, end_date=REFERENCE_END_DATE))
    config = BacktestConfig(split=SplitConfig(horizon=14, folds=2),
                            models=tuple(ModelSpec.of(m) for m in ("practice", "snaive", "ma", "ets")))
    run_id = save_run(warehouse, run_backtest(dataset_data(warehouse, dataset), config), "small ladder")
    # The example as it is (its offline criteria fail on so small a chain: a NO-GO), and with criteria this run
    # meets offline (a conditional GO waiting for the pilot), its texts kept.
    strict = planning.create_project(warehouse, "AI商店")
    planning.save_definition(warehouse, strict.project_id, example.definition(), 0, "example")
    definition = example.definition()
    met = dataclasses.replace(definition, running_cost_yen_per_year=100_000.0, kpi_target=None,
                              criteria=tuple(c for c in definition.criteria if c.baseline == "snaive" or c.spec.online))
    project = planning.create_project(warehouse, "AI商店 pilot")
    planning.save_definition(warehouse, project.project_id, met, 0, "example, met offline")
    with using("en"):
        before = decide(warehouse, project.project_id, run_id, model="ets", readiness=MANUAL, online=DESIGN)
        after = decide(warehouse, strict.project_id, run_id, model="ets", online=READOUT)
    with using("ja"):
        in_japanese = decide(warehouse, project.project_id, run_id, model="ets", readiness=MANUAL, online=DESIGN)
    yield warehouse, before, after, in_japanese
    warehouse.close()


def _sentences(decision: Decision) -> list[str]:
    """Every sentence and label of a decision in words, as a renderer shows them."""
    d = decision.in_words()
    texts = [*d.reasons, *d.next_steps, *d.risks, *d.conditions, *d.money_notes, *d.accounting, d.kpi, d.problem,
             d.decision_supported, d.baseline_label, render(d.ordering_words)]
    for c in d.criteria:
        texts += [c.criterion, c.evidence, c.measured_text, c.note]
    for row in d.stated_vs_measured:
        texts += [row["item"], row["stated"], row["measured"], row["note"]]
    texts += [r.text for r in d.readiness] + [r.evidence for r in d.readiness]
    texts += [s["statement"] for s in d.significance] + [s["baseline_label"] for s in d.significance]
    texts += [r["label"] for r in d.money] + [r["ordering"] for r in d.money] + list(d.money_sources.values())
    return [t for t in texts if isinstance(t, str) and t.strip()]


def test_the_snapshot_keeps_messages_as_facts_not_sentences(taken):
    warehouse, before, _after, _ja = taken
    stored = json.loads(before.to_json())
    assert stored["format"] == SNAPSHOT_FORMAT == 3
    assert all(isinstance(r, dict) and "msg" in r for r in stored["reasons"] + stored["next_steps"])
    assert all(isinstance(c["evidence"], dict) and isinstance(c["criterion"], dict) for c in stored["criteria"])
    assert isinstance(stored["stated_vs_measured"][0]["item"], dict)
    assert isinstance(stored["readiness"][0]["text"], dict) and stored["readiness"][0]["area"] == "Data"
    assert stored["verdict"] in (GO, CONDITIONAL_GO, NO_GO)  # a machine value
    # amounts are kept as values, formatted where read
    assert '"fmt": "yen"' in before.to_json() and "¥" not in json.dumps(stored["reasons"])
    back = decisions.get_decision(warehouse, before.decision_id)
    assert back == before and Decision.from_json(back.to_json()) == before


def test_a_decision_taken_in_english_reads_in_japanese(taken):
    warehouse, before, after, _ja = taken
    for decision in (before, after):
        stored = decisions.get_decision(warehouse, decision.decision_id)
        with using("ja"):
            words = stored.in_words()
            label = verdict_label(stored.verdict)
            sentences = _sentences(stored)
        assert label in ("GO", "条件付きGO", "NO-GO") and (label == "条件付きGO") == (stored.verdict == CONDITIONAL_GO)
        assert words.reasons and all(JAPANESE.search(r) for r in words.reasons), words.reasons
        assert words.next_steps and all(JAPANESE.search(s) for s in words.next_steps), words.next_steps
        assert all(JAPANESE.search(c.criterion) and JAPANESE.search(c.evidence) for c in words.criteria)
        assert any("万円" in r for r in words.reasons) and not any("¥" in s for s in sentences)
        left = {s: english_words(s, KEPT) for s in sentences}
        assert {s: w for s, w in left.items() if w} == {}
    with using("ja"):
        words = before.in_words()
    # the pilot, as designed, with its dates in 年月日 and its stores counted in Japanese
    assert any("2026年11月2日〜2026年11月29日" in s and "実施店舗2店" in s for s in words.next_steps), words.next_steps
    assert any(c.online and c.pending and c.measured_text == "未評価（パイロット待ち）" for c in words.criteria)
    # the example's own texts (its problem, its KPI) read in Japanese, as the planning catalog has them
    assert not english_words(words.problem) and words.kpi.startswith("廃棄・欠品ロス率")


def test_english_reads_exactly_as_before_whatever_language_the_decision_was_taken_in(taken):
    warehouse, before, after, in_japanese = taken
    stored = decisions.get_decision(warehouse, before.decision_id)
    with using("en"):
        english, taken_in_japanese = stored.in_words(), in_japanese.in_words()
        assert verdict_label(stored.verdict) == stored.verdict
    # the sentences as the verdict has always written them
    assert ("Run the pilot as designed: 2 treated stores (S001, S002) ordering from the published forecasts (batch "
            "version 1) against 8 control stores (S003, S004, S005, S006, S007, S008 and 2 more) keeping today's "
            "practice, 2026-11-02 to 2026-11-29 (planned). Then read it out (difference-in-differences of treated "
            "against control stores) and decide again on the same criteria.") in english.next_steps
    assert any(r.startswith("Not yet evaluated, waiting for the pilot: Online savings, 95% lower bound (pilot) > ¥0; "
                            "Online yearly savings (pilot) ≥ the yearly running cost. The pilot is designed but not "
                            "read out yet:") for r in english.reasons), english.reasons
    assert all(english_words(s) for s in english.reasons + english.next_steps + english.risks)
    # taken while the page was in Japanese, the decision keeps the same facts: it reads the same in English
    same = ("verdict", "reasons", "next_steps", "risks", "conditions", "criteria", "stated_vs_measured", "readiness",
            "significance", "money_notes", "accounting", "kpi", "ordering", "baseline_label")
    assert {k: getattr(taken_in_japanese, k) for k in same} == {k: getattr(english, k) for k in same}
    assert json.loads(in_japanese.to_json())["reasons"] == json.loads(before.to_json())["reasons"]
    # the readout: its promise and the pilot's judgement of the service constraint, in English
    with using("en"):
        read = after.in_words()
    assert ("The backtest said ¥19.2M a year; the pilot measured ¥14.0M (95% interval ¥6.00M–¥22.0M)."
            in read.reasons)


def test_an_older_snapshot_of_english_sentences_still_reads_in_either_language():
    text = SAMPLE.read_text(encoding="utf-8")
    assert json.loads(text)["format"] == 1
    old = Decision.from_json(text)
    assert all(isinstance(r, str) for r in old.reasons + old.next_steps + old.risks)
    with using("ja"):
        words = old.in_words()
        assert verdict_label(old.verdict) == "条件付きGO"
    assert words.reasons == old.reasons  # plain strings read as they are
    assert words.criteria[0].criterion == old.criteria[0].criterion
    with using("en"):
        assert old.in_words() == old and render(old.ordering_words).endswith("(normal safety stock)")
    assert Decision.from_json(old.to_json()).reasons == old.reasons


def test_a_snapshot_from_a_newer_mitoshi_is_refused_in_the_readers_language():
    newer = json.dumps({"format": SNAPSHOT_FORMAT + 1})
    with pytest.raises(DecisionError) as error:
        Decision.from_json(newer)
    with using("ja"):
        assert "Mitoshi" in str(error.value) and JAPANESE.search(str(error.value))


def test_the_online_words_follow_the_language():
    read = dataclasses.replace(READOUT, end=date(2026, 11, 5), days_read=4, days_planned=28)
    with using("ja"):
        sentence = pilot.pilot_sentence(DESIGN)
        rows = pilot.estimate_rows(READOUT)
        waiting = pilot.waiting(read)
        change = pilot.change_text(READOUT.estimate(STOCKOUT_DAYS))
        status = pilot.status_label(read)
        promise = pilot.promise_sentence(read, 19_200_000.0)
    assert sentence.startswith("実施店舗2店（S001, S002）") and "2026年11月2日〜2026年11月29日（予定）" in sentence
    assert [r["reading"] for r in rows] == ["改善", "改善", "悪化"] and rows[0]["yearly"] == "+1,400万円"
    assert waiting.startswith("パイロットは予定28日のうち4日を経過しています（2026年11月5日まで")
    assert change.startswith("欠品（商品×日）は年間5,762増加") and status.endswith("（中間）")
    assert promise.startswith("中間結果（パイロット28日のうち4日経過時点）：")
    for text in (sentence, waiting, change, status, promise, *[v for r in rows for v in r.values()]):
        assert not english_words(text), text
    with using("en"):  # English as it always read
        assert pilot.pilot_sentence(DESIGN).endswith("2026-11-02 to 2026-11-29 (planned)")
        assert pilot.detectable_text(DESIGN) == "a yearly effect of ¥9.66M or more (80% power at 5% significance)"


def test_the_kpi_and_verdict_words_are_facts():
    measure, why = kpi_measure(ProblemDefinition(kpi_name="Customer satisfaction", kpi_unit="points"))
    assert measure is None and why == "its unit 'points' is none the run measures (a percentage, a share or yen a year)"
    with using("ja"):
        assert kpi_measure(ProblemDefinition(kpi_name="NPS"))[1].startswith("名前から")
        assert [verdict_label(v) for v in (GO, CONDITIONAL_GO, NO_GO)] == ["GO", "条件付きGO", "NO-GO"]
        assert in_words([Msg("today's practice"), "as typed"]) == ["現行の発注", "as typed"]
