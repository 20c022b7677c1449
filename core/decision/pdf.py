"""The GO / NO-GO decision on paper: ``decision_pdf(decision)`` returns an A4 PDF.

It renders the same immutable ``Decision`` snapshot as the report page, in the order a
business owner reads it: the verdict and its reasons first, then the criteria fixed up
front, the charts, the statistics, value against cost, production readiness, and the
context (problem, money assumptions, notes) last.

Printed copies are often black and white, so results are words and symbols (✓ passed,
✗ failed), never colour alone. The document, its fonts and its text primitives are the
ones every Mitoshi PDF shares (``core.paper.pdf``).

Every word is in the language of the moment (``core.i18n``): ``decision_pdf(decision,
"ja")`` prints a decision taken in English in Japanese — its sentences are kept as facts
(``Msg``) and rendered now; a snapshot written before that keeps its English sentences.
fpdf2 and matplotlib are imported inside ``decision_pdf``, so importing this module is
cheap for the pages that only offer the download.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

from core import fmt, periods
from core.backtest import accounting
from core.columns import Freq
from core.decision import online as pilot
from core.decision.verdict import (
    AREAS,
    CONDITIONAL_GO,
    GO,
    NO_GO,
    SCORE_MEANING,
    CriterionResult,
    Decision,
    score_band,
    verdict_label,
)
from core.i18n import N_, Fmt, Msg, _, ngettext, pgettext, render
from core.i18n import said as stored_said
from core.i18n import using
from core.paper.pdf import (
    BODY,
    FONT,
    INK,
    MUTED,
    bullets,
    document,
    listing,
    moment,
    sentences,
)
from core.paper.pdf import bold as _bold
from core.paper.pdf import figure as _figure
from core.paper.pdf import figure_room as _figure_room
from core.paper.pdf import heading as _heading
from core.paper.pdf import key_values as _key_values
from core.paper.pdf import line_height as _line
from core.paper.pdf import make_room as _room
from core.paper.pdf import page_width as _width
from core.paper.pdf import paragraph as _paragraph
from core.paper.pdf import table as _table
from core.paper.pdf import wrap as _wrap
from core.paper.pdf import write_lines as _text
from core.paper.store import TITLES
from core.pilot.evidence import NONE, PROFIT, READ

PRODUCT = N_("Mitoshi 見通し — GO / NO-GO report")
# The verdict box: a light tint behind dark text, told apart in grey by its word and mark.
VERDICT_STYLE = {GO: ("✓", (221, 238, 221)), CONDITIONAL_GO: ("△", (250, 236, 204)), NO_GO: ("✗", (246, 214, 214))}
FAILED_FILL = (240, 240, 240)
RESULT_TEXT = {True: N_("✓ passed"), False: N_("✗ failed"), None: N_("? not evaluated")}
PENDING_TEXT = N_("◷ not yet evaluated (pilot)")
SCORE_SYMBOL = {1.0: "●", 0.5: "◐", 0.0: "○"}
SCORE_MARK = {1.0: N_("● 1  automated"), 0.5: N_("◐ 0.5  by hand"), 0.0: N_("○ 0  not done")}
# ---------------------------------------------------------------------------------
# Words: a snapshot's texts in the language of the moment (the report page uses these too)
# ---------------------------------------------------------------------------------
def said(value: object) -> str:
    """A text a decision keeps, in the current language: a ``Msg``/``Fmt`` (or its stored
    form) rendered now; a plain string — a name, an English constant the catalogs know
    (an area, a rung, a readiness check), or a sentence stored before decisions kept
    facts — translated when a catalog has it, else as it is. None is empty."""
    return stored_said(_message(value))


_MSG_FIELDS = {"text", "params", "plural", "count", "context"}


def _message(value: object) -> object:
    """A ``Msg`` kept as its dataclass fields (``dataclasses.asdict`` of a snapshot) back as
    a ``Msg``, through its parameters; anything else as it is."""
    if isinstance(value, dict) and set(value) == _MSG_FIELDS and isinstance(value.get("text"), str):
        params = {k: _message(v) for k, v in (value.get("params") or {}).items()}
        return Msg(value["text"], params, plural=value.get("plural"), count=value.get("count"),
                   context=value.get("context"))
    if isinstance(value, dict) and set(value) == {"kind", "value", "options"} and isinstance(value.get("kind"), str):
        return Fmt(value["kind"], value.get("value"), dict(value.get("options") or {}))
    return value


def verdict_text(verdict: str) -> str:
    """GO / 条件付きGO / NO-GO: a stored verdict (a machine key) for people."""
    return verdict_label(verdict)


# The rungs of the ladder (core.forecast.base.Rung values, as a snapshot keeps them).
RUNG_NAMES = {"current practice": N_("current practice"), "rule": N_("rule"), "statistical": N_("statistical"),
              "simple model": N_("simple model"), "GBDT": "GBDT", "built elsewhere": N_("built elsewhere")}


def rung_name(rung: object) -> str:
    """A rung for people: ``statistical`` / ``統計``."""
    return _(RUNG_NAMES[rung]) if isinstance(rung, str) and rung in RUNG_NAMES else said(rung)


# The reconciliation's results (core.decision.verdict's stated against measured), as a snapshot keeps them.
STATUS_WORDS = {"agrees": N_("agrees"), "met": N_("✓ met"), "kept": N_("✓ kept"), "in line": N_("in line"),
                "differs": N_("differs"), "above the claim": N_("above the claim"),
                "cannot be measured": N_("? cannot be measured"), "not met": N_("✗ not met"),
                "below the claim": N_("below the claim"), "broken": N_("✗ broken")}


def status_text(status: object) -> str:
    """A reconciled number's result for people (``✓ met`` / ``✓ 達成``); a snapshot's own
    wording when it is not one of the known results."""
    if isinstance(status, str) and status in STATUS_WORDS:
        return _(STATUS_WORDS[status])
    return said(status)


def decision_pdf(decision: Decision, language_code: str | None = None) -> bytes:
    """The decision as an A4 portrait PDF, ready to print or circulate, in
    ``language_code`` (``ja``/``en``; by default the current language). Pass it when the
    PDF is built outside the script run that offered it (a download built on click)."""
    with using(language_code) if language_code else nullcontext():
        return _decision_pdf(decision)


def _decision_pdf(decision: Decision) -> bytes:
    from core.decision import pdf_charts

    pdf = _document(decision)
    _title_block(pdf, decision)
    _verdict(pdf, decision)
    _criteria(pdf, decision)
    _stated_vs_measured(pdf, decision)
    _online(pdf, decision, pdf_charts)
    _ladder(pdf, decision, pdf_charts)
    _accounted(pdf, decision)
    _money(pdf, decision, pdf_charts)
    _significance_and_stability(pdf, decision)
    _value(pdf, decision)
    _readiness(pdf, decision)
    _risks_and_steps(pdf, decision)
    _context(pdf, decision)
    _money_assumptions(pdf, decision)
    _notes(pdf, decision)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------
# The document: fonts, running header and footer, text helpers
# ---------------------------------------------------------------------------------
def _document(decision: Decision):
    """The A4 document of ``decision``: its project, verdict and time over every page but the first."""
    return document(
        title=f"GO / NO-GO: {decision.project_name}",
        subject=_("Decision {decision}: {verdict}").format(decision=decision.decision_id,
                                                           verdict=verdict_text(decision.verdict)),
        header=f"{decision.project_name}  ·  {verdict_text(decision.verdict)}  ·  {moment(decision.created_at)}",
        footer=_("{product}  ·  decision {decision}").format(product=_(PRODUCT), decision=decision.decision_id),
        created_at=decision.created_at)


def _list(pdf, items: Sequence[object], numbered: bool = False, empty: str | None = None) -> None:
    """Items (stored texts: said in the current language) as a bulleted or numbered list."""
    bullets(pdf, [said(item) for item in items], numbered=numbered, empty=empty)


# ---------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------
def _title_block(pdf, d: Decision) -> None:
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, _(PRODUCT), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, size=18)
    with _bold(pdf):
        _text(pdf, _width(pdf), d.project_name, 18)
    pdf.ln(1.5)
    rung = next((r.get("rung") for r in d.leaderboard if r.get("model") == d.model), None)
    scored = said(accounting.scored_phrase(d.series_scored, d.n_series))
    model = (_("{model} ({rung})").format(model=_policy_name(d.model), rung=rung_name(rung)) if rung
             else _policy_name(d.model))
    baseline = said(d.baseline_label)
    _key_values(pdf, [
        (_("Decided"), _("{when}  (problem definition version {version})").format(
            when=moment(d.created_at), version=d.definition_version)),
        (_("Run"), _("{name}  ·  run {run} of {when}  ·  code {code}").format(
            name=d.run_name, run=d.run_id, when=moment(d.run_created_at), code=d.code_version)),
        (_("Dataset"), _("{dataset}  ·  {scored}, {folds} folds of {span} (rolling origin)").format(
            dataset=d.dataset_name, scored=scored, folds=d.folds, span=periods.span(_freq(d), d.horizon))),
        (_("Chosen model"), _("{model}, against {baseline}; money counted as the cost of its forecast errors").format(
            model=model, baseline=baseline) if _errors(d) else
         _("{model}, against {baseline}; stores order at {ordering}").format(
             model=model, baseline=baseline, ordering=said(d.ordering_words))),
        (_("Decision id"), d.decision_id),
    ], key_width=30)


def _verdict(pdf, d: Decision) -> None:
    mark, fill = VERDICT_STYLE.get(d.verdict, ("", (240, 240, 240)))
    evaluated = [c for c in d.criteria if c.passed is not None]
    value = d.value or {}
    unknown = len(d.criteria) - len(evaluated) - d.pending
    counts = {"passed": d.passed, "total": len(d.criteria), "unknown": unknown, "pending": d.pending}
    if unknown and d.pending:
        passed = _("{passed} of {total} criteria passed ({unknown} not evaluated, {pending} wait for the pilot)")
    elif unknown:
        passed = _("{passed} of {total} criteria passed ({unknown} not evaluated)")
    elif d.pending:
        passed = _("{passed} of {total} criteria passed ({pending} wait for the pilot)")
    else:
        passed = _("{passed} of {total} criteria passed")
    facts = [passed.format(**counts)]
    savings = value.get("yearly_savings")
    if savings is not None:
        facts.append(_("saves {amount} a year").format(amount=fmt.yen(savings)) if savings >= 0 else
                     _("loses {amount} a year").format(amount=fmt.yen(-savings)))
    if value.get("net_benefit") is not None:
        facts.append(_("net {amount} a year after running costs").format(amount=fmt.yen(value["net_benefit"])))
    if value.get("payback_months") is not None:
        facts.append(_("payback {months}").format(months=fmt.months(value["payback_months"])))
    inner = _width(pdf) - 10
    pdf.set_font(FONT, size=BODY)
    reasons = [_wrap(pdf, said(r), inner - 6 - 2 * pdf.c_margin) for r in d.reasons]
    facts_text = _wrap(pdf, "  ·  ".join(facts), inner - 2 * pdf.c_margin)
    height = (6 + 14 + _lines(facts_text) * _line(BODY) + 2
              + sum(_lines(r) * _line(BODY) + 1 for r in reasons) + 5)
    pdf.ln(3)
    _room(pdf, height)
    top = pdf.get_y()
    pdf.set_fill_color(*fill)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.9)
    pdf.rect(pdf.l_margin, top, _width(pdf), height, style="DF")
    pdf.set_xy(pdf.l_margin + 5, top + 3)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 4, _("VERDICT  判定"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    pdf.set_x(pdf.l_margin + 5)
    pdf.set_font(FONT, size=26)
    with _bold(pdf):
        pdf.cell(0, 14, f"{mark}  {verdict_text(d.verdict)}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=BODY)
    pdf.set_x(pdf.l_margin + 5)
    with _bold(pdf):
        pdf.multi_cell(inner, _line(BODY), facts_text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for reason in reasons:
        pdf.set_x(pdf.l_margin + 5)
        pdf.cell(6, _line(BODY), "•")
        pdf.multi_cell(inner - 6, _line(BODY), reason, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.set_y(top + height + 2)


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _criteria(pdf, d: Decision) -> None:
    _heading(pdf, _("Criteria, fixed before the results were known"))
    if not d.criteria:
        _paragraph(pdf, _("The decision has no criteria."), color=MUTED)
        return
    rows = [(_(PENDING_TEXT) if c.pending else _(RESULT_TEXT[c.passed]), _criterion_text(c),
             said(c.measured_text) or fmt.MISSING, said(c.evidence) or fmt.MISSING) for c in d.criteria]
    fills = [FAILED_FILL if c.passed is False else None for c in d.criteria]
    _table(pdf, (_("Result"), _("Criterion (and why, as the PM wrote it)"), _("Measured"), _("Evidence")), rows,
           (22, 58, 25, 75), fills=fills)


def _stated_vs_measured(pdf, d: Decision) -> None:
    """The problem definition's own numbers beside what was measured (none in a snapshot
    written before they were reconciled)."""
    if not d.stated_vs_measured:
        return
    _heading(pdf, _("The problem's numbers: stated and measured"), keep=30)
    rows = [(said(r.get("item")) or fmt.MISSING, said(r.get("stated")) or fmt.MISSING,
             said(r.get("measured")) or fmt.MISSING, status_text(r.get("status")) or fmt.MISSING, said(r.get("note")))
            for r in d.stated_vs_measured]
    # Wide enough for a yen amount in the billions on one line: a number is never broken across lines.
    _table(pdf, (_("Number"), _("Stated up front"), _("Measured"), _("Result"), _("Note")), rows,
           (32, 33, 35, 22, 58))
    if d.conditions:
        pdf.ln(1)
        _list(pdf, d.conditions)


def _online(pdf, d: Decision, charts) -> None:
    """The online evaluation beside the offline evidence: the pilot's status, stores and
    dates; once read out, the promise against the measurement, its estimates and chart."""
    _heading(pdf, _("Online evaluation: the pilot in stores"), keep=30)
    evidence = d.online_evidence
    if d.online is None:
        _paragraph(pdf, _("This decision was taken before Mitoshi kept the online evidence with a decision."),
                   color=MUTED)
        return
    status = said(pilot.status_label(evidence))
    if evidence.status == NONE:
        _paragraph(pdf, _("Status: {status}. The offline promise has not been tested in stores: a pilot (treated and "
                          "control stores, its length from a power calculation) would test it before the decision is "
                          "final.").format(status=status))
        return
    period = (_("{start} to {end}") if evidence.status == READ else _("{start} to {end} (planned)")).format(
        start=_day(evidence.start), end=_day(evidence.end))
    model = _policy_name(evidence.batch_model) if evidence.batch_model else None
    version = evidence.batch_version
    if model and version is not None:
        source = _("the published forecasts of {model}, batch version {version}").format(model=model, version=version)
    elif model:
        source = _("the published forecasts of {model}").format(model=model)
    elif version is not None:
        source = _("the published forecasts, batch version {version}").format(version=version)
    else:
        source = _("the published forecasts")
    pairs = [(_("Status"), _capital(status)),
             (_("Treated stores ({n})").format(n=len(evidence.treated)), listing(evidence.treated) or fmt.MISSING),
             (_("Control stores ({n})").format(n=len(evidence.control)), listing(evidence.control) or fmt.MISSING),
             (_("Pilot period"), period),
             (_("Treated stores order from"), source),
             (_("Control stores"), _("keep today's practice"))]
    if evidence.chain_stores:
        pairs.append((_("Yearly effects scaled to"), ngettext("the chain's {n} store", "the chain's {n} stores",
                                                              evidence.chain_stores).format(n=evidence.chain_stores)))
    detectable = pilot.detectable_text(evidence)
    if detectable:
        pairs.append((_("Designed to detect"), said(detectable)))
    _key_values(pdf, pairs, key_width=44)
    if evidence.status != READ:
        pdf.ln(1)
        _paragraph(pdf, _("The online criteria wait for the readout: until then the verdict is at most a conditional "
                          "GO."), size=8.5, color=MUTED)
        return
    sentence = pilot.promise_sentence(evidence, pilot.promised(evidence, (d.value or {}).get("yearly_savings"),
                                                               d.model))
    if sentence:
        pdf.ln(2)
        pdf.set_font(FONT, size=10.5)
        with _bold(pdf):
            _text(pdf, _width(pdf), said(sentence), 10.5)
        pdf.set_font(FONT, size=BODY)
    rows = pilot.estimate_rows(evidence)
    if rows:
        pdf.ln(1)
        _table(pdf, (_("Measure"), _("Yearly effect (chain)"), _("Interval"), _("p-value"), _("Reading")),
               [tuple(said(r[k]) for k in ("measure", "yearly", "interval", "p_value", "reading")) for r in rows],
               (34, 38, 58, 18, 32), align=("L", "R", "L", "R", "L"))
        _paragraph(pdf, _("Difference-in-differences of treated against control stores, before against during the "
                          "pilot; intervals from the stores' changes, each store one observation (its days may be as "
                          "correlated as days are). Reading: better or worse when the whole interval is on one side "
                          "of zero."), size=8, color=MUTED)
    profit = evidence.estimate(PROFIT)
    if profit is not None:
        pdf.ln(1)
        width, height = _width(pdf), 52
        offline = pilot.promised(evidence, (d.value or {}).get("yearly_savings"), d.model)
        _figure(pdf, charts.online_png(offline, profit.yearly, profit.low, profit.high, profit.level,
                                       (d.value or {}).get("running_cost"), width, height), width, height,
                (_("The backtest's yearly savings (a promise: no interval) against the pilot's yearly profit effect "
                   "scaled to the chain, with its {level} interval; dashed: the yearly running cost.")
                 if (d.value or {}).get("running_cost") is not None else
                 _("The backtest's yearly savings (a promise: no interval) against the pilot's yearly profit effect "
                   "scaled to the chain, with its {level} interval.")).format(level=fmt.pct(profit.level, 0)))
    if evidence.notes:
        _list(pdf, evidence.notes)


def _day(value) -> str:
    return fmt.date(value) if value is not None else fmt.MISSING


def _freq(d: Decision) -> Freq:
    try:
        return Freq(d.freq)
    except ValueError:
        return Freq.DAILY


def _errors(d: Decision) -> bool:
    """The money was counted as the cost of forecast errors, not by a shelf simulation."""
    return d.money_model == "errors"


def _criterion_text(c: CriterionResult) -> str:
    criterion, note = said(c.criterion), render(c.note)  # the note: the PM's own words
    return _("{criterion}\nWhy: {note}").format(criterion=criterion, note=note) if note.strip() else criterion


def _ladder(pdf, d: Decision, charts) -> None:
    _heading(pdf, _("The ladder: rule → statistical → simple model → GBDT → built elsewhere"),
             keep=_figure_room(78))
    rows = [r for r in d.leaderboard if r.get("wape") is not None]
    if not rows:
        _paragraph(pdf, _("The run has no accuracy results to chart."), color=MUTED)
        return
    width, height = _width(pdf), 78
    _figure(pdf, charts.ladder_png(d.leaderboard, d.model, width, height), width, height, sentences(
        _("Backtest over {folds} folds of {span}, {scored}. Hatches mark the rung; the chosen model is starred. The "
          "cheapest rung that is good enough wins: a costlier model must earn its running cost.").format(
            folds=d.folds, span=periods.span(_freq(d), d.horizon),
            scored=said(accounting.scored_phrase(d.series_scored, d.n_series))),
        _improvement_caption(charts.improvement_baseline(rows))))


def _improvement_caption(baseline: str | None) -> str:
    if baseline == "practice":
        return _("Right: WAPE reduction against today's practice.")
    if baseline == "snaive":
        return _("Right: WAPE reduction against seasonal naive — today's practice is not in the run, so the chart "
                 "against it is left out.")
    return _("The chart of improvement over a baseline is left out: the run has neither today's practice nor "
             "seasonal naive to measure against.")


def _accounted(pdf, d: Decision) -> None:
    """What the folds left out and which models fell back (nothing for an older snapshot)."""
    if not d.accounting:
        return
    _heading(pdf, _("Every series accounted for"), keep=25)
    _list(pdf, d.accounting)


def _money(pdf, d: Decision, charts) -> None:
    _heading(pdf, _("Money: what each forecast's errors would have cost") if _errors(d) else
             _("Money: what ordering from each forecast would have saved"),
             keep=_figure_room(charts.money_height(d.money)) if d.money else 20)
    baseline = said(d.baseline_label)
    period = periods.period_noun(_freq(d), plural=True)
    if d.money:
        width, height = _width(pdf), charts.money_height(d.money)
        _figure(pdf, charts.money_png(d.money, d.model, baseline, width, height, d.baseline), width, height,
                (_("The cost of each model's forecast errors over the backtest's {period}, against {baseline}.")
                 if _errors(d) else
                 _("Stores ordering from each model's forecasts, replayed over the backtest's {period} against "
                   "{baseline}.")).format(period=period, baseline=baseline))
        curve = charts.sensitivity_png(d.money, d.sensitivity, d.model, width, 58, period=period)
        if curve is not None:
            _figure(pdf, curve, width, 58,
                    _("{model} with one service level for every item, against the ordering decided on (dashed: "
                      "{ordering}).").format(model=fmt.model_name(d.model), ordering=said(d.ordering_words)))
        pdf.ln(1)
        ordered = sorted(d.money, key=lambda r: -(r.get("yearly_savings") or 0))
        orderings = {said(r.get("ordering")) for r in ordered if r.get("policy") != "practice"}
        name = [("★ " if r.get("policy") == d.model else "") + _policy_name(r.get("policy")) for r in ordered]
        money = [(fmt.yen(r.get("yearly_savings")), fmt.yen(r.get("yearly_waste_cost")),
                  fmt.yen(r.get("yearly_lost_margin")), fmt.pct(r.get("stockout_rate"))) for r in ordered]
        heads = ((_("Yearly savings"), _("Over-forecast cost / year"), _("Under-forecast cost / year"), "")
                 if _errors(d) else (_("Yearly savings"), _("Waste cost / year"), _("Lost margin / year"),
                                     periods.out_of_stock(_freq(d))))
        if _errors(d):  # no shelf, so no stockouts to count: three columns, not a fourth of dashes
            money = [m[:3] for m in money]
            heads = heads[:3]
        if len(orderings) > 1:  # the ordering only earns a column when it differs between policies
            rows = [(n, said(r.get("ordering")) or fmt.MISSING, *m) for n, r, m in zip(name, ordered, money,
                                                                                       strict=True)]
            rest = (180 - 34 - 42) / len(heads)
            widths = (34, 42, *([rest] * len(heads)))
            _table(pdf, (_("Policy"), _("Ordering"), *heads), rows, widths, align=("L", "L", *("R" * len(heads))))
        else:
            rows = [(n, *m) for n, m in zip(name, money, strict=True)]
            rest = (180 - 56) / len(heads)
            widths = (56, *([rest] * len(heads)))
            _table(pdf, (_("Policy"), *heads), rows, widths, align=("L", *("R" * len(heads))))
            if orderings and not _errors(d):
                _paragraph(pdf, _("Ordering, for every model: {ordering}.").format(ordering=next(iter(orderings))),
                           size=8, color=MUTED)
    else:
        _paragraph(pdf, _("No money impact was recorded with this decision."), color=MUTED)


def _significance_and_stability(pdf, d: Decision) -> None:
    _heading(pdf, _("Significance and stability"))
    if d.significance:
        rows = [(_capital(said(s.get("baseline_label")) or _policy_name(s.get("baseline"))),
                 _("✓ significant") if s.get("significant") else _("✗ not significant"), _p_value(s.get("p_value")),
                 ngettext("Diebold–Mariano, one-sided, on absolute error; statistic {statistic}, {n} period",
                          "Diebold–Mariano, one-sided, on absolute error; statistic {statistic}, {n} periods",
                          s.get("periods") or 0).format(statistic=fmt.number(s.get("statistic"), 2),
                                                        n=fmt.count(s.get("periods"))))
                for s in d.significance]
        _table(pdf, (_("{model} against").format(model=_policy_name(d.model)), _("Result"), _("p-value"), _("Test")),
               rows, (44, 30, 18, 88))
    else:
        _paragraph(pdf, _("No significance test: the run had no baseline to test against."), color=MUTED)
    pdf.ln(2)
    stability = d.stability or {}
    base = _policy_name(stability["baseline"]) if stability.get("baseline") else _("the baseline")
    folds = stability.get("folds") or []
    if folds and stability.get("baseline") == d.model:
        _paragraph(pdf, _("The chosen model is the baseline itself ({model}): there is nothing to compare fold by "
                          "fold.").format(model=_policy_name(d.model)), color=MUTED)
    elif folds:
        worst = (stability.get("worst_fold") or {}).get("cutoff")
        rows = [(_day(str(f.get("cutoff"))[:10]) if f.get("cutoff") else fmt.MISSING, fmt.pct(f.get("wape")),
                 fmt.pct(f.get("baseline_wape")), fmt.pct_change(_gain(f.get("wape"), f.get("baseline_wape"))),
                 _("◀ worst fold") if f.get("cutoff") == worst else "") for f in folds]
        _table(pdf, (_("Fold cutoff"), f"{_policy_name(d.model)} WAPE", f"{base} WAPE", _("WAPE reduction"), ""), rows,
               (36, 30, 30, 30, 54), align=("L", "R", "R", "R", "L"))
    else:
        _paragraph(pdf, _("No fold-by-fold results were recorded."), color=MUTED)
    pdf.ln(1)
    _list(pdf, _stability_sentences(_policy_name(d.model), stability),
          empty=_("No segment-level comparison was recorded."))


def _p_value(p: float | None) -> str:
    return fmt.p_value(p)


def _capital(text: str) -> str:
    """A cell's text with its first letter raised ("today's practice" → "Today's practice")."""
    return text[:1].upper() + text[1:]


def _policy_name(policy: str | None) -> str:
    return fmt.policy_name(policy)


def _gain(value: float | None, baseline: float | None) -> float | None:
    """WAPE reduction: the share of the baseline's error removed."""
    if value is None or not baseline:
        return None
    return 1 - value / baseline


def _stability_sentences(model: str, stability: dict) -> list[str]:
    out = []
    base = _policy_name(stability.get("baseline")) if stability.get("baseline") else _("the baseline")
    column = stability.get("segment_column")  # a column of the data: its name as the data has it
    worst = stability.get("worst_segment")
    if worst and column:
        worse = stability.get("segments_worse") or 0
        total = stability.get("segments") or 0
        out.append(_("By {column}: {model} beats {base} in every one of {total} values.").format(
            column=column, model=model, base=base, total=total) if worse == 0 else
            _("By {column}: {worse} of {total} values are worse than {base}.").format(
                column=column, worse=worse, total=total, base=base))
        change = worst.get("change") or 0.0
        figures = {"column": column, "group": worst.get("group"), "wape": fmt.pct(worst.get("wape")),
                   "base_wape": fmt.pct(worst.get("baseline_wape")), "base": base, "change": fmt.pct(abs(change))}
        out.append(_("Its smallest gain by {column} is {group}: WAPE {wape} against {base_wape} for {base} ({change} "
                     "lower).").format(**figures) if change < 0 else
                   _("Its worst {column} is {group}: WAPE {wape} against {base_wape} for {base} ({change} "
                     "higher).").format(**figures))
    for segment, (losing, count) in (stability.get("money_losing") or {}).items():
        out.append(_("In money, {losing} of {count} {segment} values lose against {base}.").format(
            losing=losing, count=count, segment=segment, base=base))
    if stability.get("baseline") and model == _policy_name(stability.get("baseline")):
        return []  # the chosen model is the baseline: every comparison with itself is empty
    return out


def _value(pdf, d: Decision) -> None:
    _heading(pdf, _("Value against cost"))
    v = d.value or {}
    claimed, savings = v.get("value_claimed"), v.get("yearly_savings")
    scale = v.get("chain_scale")
    if v.get("payback_months") is not None:
        payback = fmt.months(v.get("payback_months"))
    elif v.get("investment") is not None and v.get("net_benefit") is not None:
        payback = pgettext("payback", "never")
    else:
        payback = fmt.MISSING
    pairs = [
        (_("Yearly savings"), _("{savings}  (the run's {run} scaled {factor}× to the whole dataset)").format(
            savings=fmt.yen(savings), run=fmt.yen(v.get("yearly_savings_run")), factor=fmt.number(scale, 2))
         if scale and scale > 1.0001 else fmt.yen(savings)),
        (_("Running cost per year"), fmt.yen(v.get("running_cost"))),
        (_("Net benefit per year"), fmt.yen(v.get("net_benefit"))),
        (_("Initial investment"), fmt.yen(v.get("investment"))),
        (_("Payback"), payback),
        (_("Value claimed up front"), _("{claimed} a year; measured savings are {share} of it").format(
            claimed=fmt.yen(claimed), share=fmt.share_of(savings, claimed))
         if claimed and savings is not None else fmt.yen(claimed)),
        (_("Does it pay?"), _pays(v)),
    ]
    if not fmt.missing(v.get("yearly_sales")) and v.get("yearly_sales"):
        pairs.insert(-1, (_("Yearly sales in the data"), _("{amount} (the scale the value claimed should be read "
                                                           "against)").format(amount=fmt.yen(v["yearly_sales"]))))
    if not _errors(d) and not fmt.missing(v.get("loss_share_baseline")) and not fmt.missing(v.get("loss_share_model")):
        pairs.insert(-1, (_("Waste + stockout loss"), _(
            "{before} of sales today → {after} with {model}; demand filled {filled_before} → {filled_after}").format(
            before=fmt.pct_fine(v["loss_share_baseline"]), after=fmt.pct_fine(v["loss_share_model"]),
            model=_policy_name(d.model), filled_before=fmt.pct(v.get("fill_rate_baseline")),
            filled_after=fmt.pct(v.get("fill_rate_model")))))
    _key_values(pdf, pairs)


def _pays(value: dict) -> str:
    if value.get("net_benefit") is None:
        return _("– the running cost was not given")
    if value.get("pays"):
        return _("✓ yes: the savings cover the running cost")
    return _("✗ no: the savings do not cover the running cost")


def _readiness(pdf, d: Decision) -> None:
    _heading(pdf, _("Production readiness (ML Test Score)"), keep=60)
    _paragraph(pdf, _("Each check scores 1 ({automated}), 0.5 ({by_hand}) or 0 ({not_done}). An area's score is the sum "
                      "of its checks; the overall score is the lowest area (Breck et al., 2017).").format(
        automated=said(SCORE_MEANING[1.0]), by_hand=said(SCORE_MEANING[0.5]), not_done=said(SCORE_MEANING[0.0])),
        size=8.5, color=MUTED)
    pdf.ln(1)
    rows = []
    for area in AREAS:
        items = [r for r in d.readiness if r.area == area]
        total = d.readiness_areas.get(area)
        rows.append((said(area), _("{score} of {n}").format(score=fmt.number(total, 1), n=len(items)),
                     " ".join(SCORE_SYMBOL.get(r.score, "?") for r in items)))
    _table(pdf, (_("Area"), _("Score"), _("Checks (● automated, ◐ by hand, ○ not done)")), rows, (40, 30, 110),
           size=BODY - 0.5)
    lowest = [said(a) for a in AREAS if d.readiness_areas.get(a) == d.readiness_overall]
    band, score = said(score_band(d.readiness_overall)), fmt.number(d.readiness_overall, 1)
    pdf.ln(2)
    pdf.set_font(FONT, size=10.5)
    with _bold(pdf):
        _text(pdf, _width(pdf), _("Overall ML Test Score: {score} (lowest: {areas}) — {band}.").format(
            score=score, areas=listing(lowest), band=band) if lowest else
            _("Overall ML Test Score: {score} — {band}.").format(score=score, band=band), 10.5)
    pdf.ln(2)
    if d.readiness:
        rows = [(said(r.area), said(r.text), _(SCORE_MARK[r.score]) if r.score in SCORE_MARK else
                 fmt.number(r.score, 1), said(r.evidence)) for r in d.readiness]
        _table(pdf, (_("Area"), _("Check"), _("Score"), _("Evidence")), rows, (23, 71, 25, 61), size=8)


def _risks_and_steps(pdf, d: Decision) -> None:
    _heading(pdf, _("Risks"))
    _list(pdf, d.risks, empty=_("No risks were recorded."))
    _heading(pdf, _("Next steps"))
    _list(pdf, d.next_steps, numbered=True, empty=_("No next steps were recorded."))


def _context(pdf, d: Decision) -> None:
    _heading(pdf, _("The problem and the decision it supports"))
    _key_values(pdf, [
        (_("Problem"), d.problem or fmt.MISSING),
        (_("Decision supported"), d.decision_supported or fmt.MISSING),
        (_("KPI"), d.kpi or fmt.MISSING),
        (_("Value claimed per year"), fmt.yen(d.value_yen_per_year)),
        (_("Running cost per year"), fmt.yen(d.running_cost_yen_per_year)),
        (_("Initial investment"), fmt.yen(d.investment_yen)),
    ])
    _heading(pdf, _("The reports it rests on"), keep=12)
    if not d.reports:
        _paragraph(pdf, _("No report of the project was made before this decision: the Problem definition, Effort / "
                          "impact, Experiments and Pilot pages make them."), color=MUTED)
        return
    _key_values(pdf, [(_(TITLES.get(r.get("kind"), r.get("kind", ""))), _(
        "version {version} of {when}  ·  report {report}").format(
            version=r.get("version"), when=moment(r.get("created_at")), report=r.get("report_id")))
        for r in d.reports])


def _money_assumptions(pdf, d: Decision) -> None:
    _heading(pdf, _("How the money was computed"))
    baseline, ordering = said(d.baseline_label), said(d.ordering_words)
    if _errors(d):
        _paragraph(pdf, _("No shelf is simulated: each model's forecast errors are priced directly (see the settings "
                          "below), and savings are measured against {baseline}.").format(baseline=baseline))
    elif d.baseline == "practice":
        _paragraph(pdf, _("Simulated stores order from each model's forecasts at {ordering}; {baseline} is replayed "
                          "from its recorded orders.").format(ordering=ordering, baseline=_capital(baseline)))
    else:
        _paragraph(pdf, _("Simulated stores order from each model's forecasts at {ordering}. The data records no "
                          "orders, so savings are measured against {baseline}, ordered the same way.").format(
            ordering=ordering, baseline=baseline))
    pdf.ln(1)
    _list(pdf, d.money_notes, empty=_("No notes on the money impact."))
    if d.money_sources:
        pdf.ln(1)
        _key_values(pdf, [(_capital(said(k)), said(v)) for k, v in d.money_sources.items()], key_width=30)


def _notes(pdf, d: Decision) -> None:
    if not d.notes.strip():
        return  # no page for an empty section
    _heading(pdf, _("The team's notes"), keep=6)
    _paragraph(pdf, d.notes, color=INK)
