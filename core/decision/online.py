"""The online evidence in a decision: what the pilot in a few stores measured, as the
verdict, the report page and the PDF say it.

A pilot (``core.pilot``) is designed, run and read out by difference-in-differences of
treated against control stores, before against during the pilot; its readout is an
``OnlineEvidence`` (facts: stores, dates, estimates with their 95 % intervals). This
module turns those facts into the values the online criteria
(``core.planning.criteria.ONLINE_METRICS``) are evaluated on, and into the sentences and
table rows people read. Nothing here decides: ``core.decision.verdict`` does.

Sentences are facts (issue 15): each ``…_fact`` function returns a ``core.i18n.Msg`` that a
decision keeps and reads in either language later; the function of the same name without
``_fact`` gives it in the current language, now (a ``str``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from core import fmt
from core.i18n import M_, N_, Fmt, Msg, _, gettext, nM_, render
from core.pilot import readout
from core.pilot.evidence import (
    DESIGNED,
    GOOD_DIRECTION,
    LOST_MARGIN,
    MEASURES,
    NONE,
    PROFIT,
    READ,
    STOCKOUT_DAYS,
    WASTE_COST,
    Estimate,
    OnlineEvidence,
    measure_label,
)

# Which estimate, and which end of it, each online criterion metric reads.
YEARLY, LOW = "yearly", "low"
SOURCES: dict[str, tuple[str, str]] = {
    "online_yearly_savings": (PROFIT, YEARLY),
    "online_savings_lower": (PROFIT, LOW),
    "online_waste_change": (WASTE_COST, YEARLY),
    "online_stockout_change": (STOCKOUT_DAYS, YEARLY),
}
# English, catalog messages: ``status_label`` (and ``gettext`` for STATUS_SHORT) read them.
STATUS_LABELS = {NONE: N_("no pilot"), DESIGNED: N_("pilot designed, not read out yet"), READ: N_("pilot read out")}
INTERIM_LABEL = N_("pilot read out before its last day (interim)")
STATUS_SHORT = {NONE: N_("before any pilot"), DESIGNED: N_("before the pilot (designed)"), READ: N_("after the pilot")}
# How an estimate reads, from its 95 % interval and the measure's good direction (machine values, and English
# words the catalogs translate where shown).
BETTER, WORSE, UNCLEAR = N_("better"), N_("worse"), N_("no clear change")
# A measure inside a sentence ("the pilot's readout has no estimate of profit").
MEASURE_WORDS = {PROFIT: N_("profit"), WASTE_COST: N_("waste cost"), LOST_MARGIN: N_("lost-sales margin"),
                 STOCKOUT_DAYS: N_("stockout item-days")}


def _measure_word(measure: str) -> Msg | str:
    return Msg(MEASURE_WORDS[measure]) if measure in MEASURE_WORDS else str(measure)


def status_label(evidence: OnlineEvidence) -> str:
    """The pilot's status for people, telling an interim readout from a finished one, in
    the current language."""
    if evidence.status == READ and interim(evidence):
        return gettext(INTERIM_LABEL)
    label = STATUS_LABELS.get(evidence.status)
    return gettext(label) if label is not None else str(evidence.status)


def interim(evidence: OnlineEvidence) -> bool:
    """A readout of a pilot still running: fewer days read (``days_read``) than planned
    (``days_planned``). Its estimates are shown as interim; online criteria wait for the
    pilot's last day. Evidence stored before the days were kept reads as complete."""
    return (evidence.status == READ and evidence.days_planned is not None and evidence.days_read is not None
            and evidence.days_read < evidence.days_planned)


def finished(evidence: OnlineEvidence) -> bool:
    """The pilot was read out after its last planned day: the online criteria can be judged."""
    return evidence.status == READ and not interim(evidence)


def planned_end(evidence: OnlineEvidence) -> date | None:
    """The pilot's planned last day (its ``end`` unless an interim readout ended earlier)."""
    if evidence.start is None or evidence.days_planned is None:
        return evidence.end
    return evidence.start + timedelta(days=evidence.days_planned - 1)


def days_run_fact(evidence: OnlineEvidence, start: bool = False) -> Msg:
    """``the pilot has run 4 of its 28 days (to 2026-11-05; it ends on 2026-11-29)`` as a
    fact (``start``: at the start of a sentence, ``The pilot has run …``)."""
    values = dict(read=evidence.days_read, planned=evidence.days_planned, end=_day(evidence.end),
                  last=_day(planned_end(evidence)))
    if start:
        return M_("The pilot has run {read} of its {planned} days (to {end}; it ends on {last})", **values)
    return M_("the pilot has run {read} of its {planned} days (to {end}; it ends on {last})", **values)


def days_run_text(evidence: OnlineEvidence) -> str:
    """``the pilot has run 4 of its 28 days (to 2026-11-05; it ends on 2026-11-29)``."""
    return render(days_run_fact(evidence))


def evidence_of(values: dict | None) -> OnlineEvidence:
    """A snapshot's stored online evidence (``OnlineEvidence.to_dict``) back as the object;
    a snapshot written before online evidence was kept (None) has none."""
    return OnlineEvidence() if not values else OnlineEvidence.from_dict(values)


def value_for(metric: str, evidence: OnlineEvidence) -> tuple[float | None, Estimate | None]:
    """The value an online criterion on ``metric`` is evaluated on — the yearly effect of
    its measure, or its interval's lower end — and the estimate it comes from; (None,
    None) when the pilot's readout has no estimate of that measure."""
    measure, end = SOURCES[metric]
    estimate = evidence.estimate(measure)
    if estimate is None:
        return None, None
    return (estimate.yearly if end == YEARLY else estimate.low), estimate


def is_yen(measure: str) -> bool:
    return measure != STOCKOUT_DAYS


def _item_days(value: float | None, digits: int = 0, signed: bool = False) -> Msg:
    return M_("{n} item-days", n=Fmt("number", _float(value), {"digits": digits, "signed": signed}))


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def amount_fact(measure: str, value: float | None, signed: bool = False) -> Fmt | Msg:
    """A yearly effect as a fact: ``¥14,000,000``, ``−1,250 item-days``."""
    if is_yen(measure):
        return Fmt("yen", _float(value), {"signed": True} if signed else {})
    return _item_days(value, signed=signed)


def amount(measure: str, value: float | None, signed: bool = False) -> str:
    """A yearly effect for people: ``¥14,000,000``, ``−1,250 item-days``."""
    return render(amount_fact(measure, value, signed))


def amount_short(measure: str, value: float | None, signed: bool = False) -> str:
    """The same in three significant figures: ``¥14.0M``, ``−1,250 item-days``."""
    return fmt.yen_short(value, signed=signed) if is_yen(measure) else amount(measure, value, signed)


def reading(estimate: Estimate) -> str:
    """``better`` or ``worse`` when the whole 95 % interval lies on one side of zero (in
    the measure's good direction: profit up, waste, lost margin and stockouts down),
    else ``no clear change``. A machine value (English): ``gettext`` words it."""
    good = GOOD_DIRECTION.get(estimate.measure, 1)
    if estimate.low > 0 or estimate.high < 0:
        return BETTER if (estimate.low > 0) == (good > 0) else WORSE
    return UNCLEAR


# How a finished pilot settles a condition the offline evidence left to it.
MET, FAILED, OPEN = "met", "failed", "open"


def stockout_judgement(estimate: Estimate, tolerated: float = 0.0) -> str:
    """Whether the pilot's stockout item-days (``estimate``, a yearly change for the
    chain) keep a service constraint that tolerates a rise of ``tolerated`` item-days a
    year (≥ 0): ``MET`` when the whole 95 % interval lies at or below the tolerance (a
    "better" reading always does), ``FAILED`` when it reads "worse" (the whole interval
    above zero) and the estimate itself is above the tolerance, ``OPEN`` otherwise —
    the pilot cannot tell a rise beyond the tolerance from noise."""
    if estimate.high <= max(tolerated, 0.0):
        return MET
    if reading(estimate) == WORSE and estimate.yearly > tolerated:
        return FAILED
    return OPEN


def change_fact(estimate: Estimate) -> Msg:
    """A measure's yearly change with its interval and p-value, worded by its sign, as a
    fact: ``stockout item-days rose by 5,762 a year (95% interval 564–10,960), p = 0.034``;
    ``stockout item-days changed by −1,825 a year (95% interval −3,000 to 650), p =
    0.210`` when the interval spans zero."""
    values = dict(measure=_measure_word(estimate.measure), level=Fmt("pct", float(estimate.level), {"digits": 0}),
                  p=Fmt("p_phrase", _float(estimate.p_value)))

    def short(value: float, signed: bool = False) -> Fmt:
        if is_yen(estimate.measure):
            return Fmt("yen_short", float(value), {"signed": True} if signed else {})
        return Fmt("number", float(value), {"digits": 0, "signed": signed})

    if estimate.low > 0 or estimate.high < 0:
        near, far = sorted((abs(estimate.low), abs(estimate.high)))
        values.update(size=short(abs(estimate.yearly)), near=short(near), far=short(far))
        if estimate.yearly > 0:
            return M_("{measure} rose by {size} a year ({level} interval {near}–{far}), {p}", **values)
        return M_("{measure} fell by {size} a year ({level} interval {near}–{far}), {p}", **values)
    return M_("{measure} changed by {change} a year ({level} interval {low} to {high}), {p}",
              change=short(estimate.yearly, signed=True), low=short(estimate.low), high=short(estimate.high), **values)


def change_text(estimate: Estimate) -> str:
    """``change_fact`` in the current language."""
    return render(change_fact(estimate))


def interval_fact(estimate: Estimate) -> Msg:
    """``¥6,000,000 to ¥22,000,000``, ``−3,000 to 650 item-days``, as a fact."""
    if is_yen(estimate.measure):
        return M_("{low} to {high}", low=amount_fact(estimate.measure, estimate.low),
                  high=amount_fact(estimate.measure, estimate.high))
    return M_("{low} to {high}", low=Fmt("number", float(estimate.low), {"digits": 0}),
              high=amount_fact(estimate.measure, estimate.high))


def interval(estimate: Estimate) -> str:
    """``¥6,000,000 to ¥22,000,000``, ``−3,000 to 650 item-days``."""
    return render(interval_fact(estimate))


def estimate_rows(evidence: OnlineEvidence) -> list[dict]:
    """The pilot's estimates as table rows, in the order of ``core.pilot.evidence.MEASURES``:
    ``measure`` (its label), ``yearly`` (the chain's yearly effect), ``interval`` (95 %),
    ``p_value``, ``per_store_day`` and ``reading`` — all texts, in the current language."""
    order = {m: i for i, m in enumerate(MEASURES)}
    rows = []
    for e in sorted(evidence.estimates, key=lambda e: order.get(e.measure, len(order))):
        per_day = (fmt.yen(e.per_store_day, signed=True) if is_yen(e.measure) else
                   render(_item_days(e.per_store_day, 2, signed=True)))
        rows.append({"measure": measure_label(e.measure),
                     "yearly": amount(e.measure, e.yearly, signed=True),
                     "interval": _("{level}: {interval}").format(level=fmt.pct(e.level, 0), interval=interval(e)),
                     "p_value": fmt.p_value(e.p_value), "per_store_day": per_day, "reading": gettext(reading(e))})
    return rows


def stores_fact(stores: Sequence[str], limit: int = 6) -> Msg | str:
    """``S001, S002`` — the first ``limit`` and how many more — as a fact."""
    shown = ", ".join(stores[:limit])
    if len(stores) > limit:
        return M_("{stores} and {n} more", stores=shown, n=len(stores) - limit)
    return shown


def stores_text(stores: Sequence[str], limit: int = 6) -> str:
    """``S001, S002`` — the first ``limit`` and how many more."""
    return render(stores_fact(stores, limit))


def _day(value: date | None) -> Fmt | str:
    """A day inside a sentence, as a fact (``2026-11-30`` / ``2026年11月30日``)."""
    return Fmt("date", value.isoformat()) if value is not None else fmt.MISSING


def pilot_fact(evidence: OnlineEvidence) -> Msg:
    """The pilot as designed or run, in a sentence without its result, as a fact: ``2
    treated stores (S001, S002) ordering from the published forecasts (batch version 3)
    against 8 control stores keeping today's practice, 2025-01-06 to 2025-02-02``."""
    if evidence.status == NONE:
        return M_("no pilot is designed")
    treated, control = len(evidence.treated), len(evidence.control)
    values = dict(
        treated=nM_("{n} treated store ({stores})", "{n} treated stores ({stores})", "n", n=treated,
                    stores=stores_fact(evidence.treated)),
        source=(M_("the published forecasts (batch version {version})", version=evidence.batch_version)
                if evidence.batch_version is not None else M_("the published forecasts")),
        control=nM_("{n} control store ({stores})", "{n} control stores ({stores})", "n", n=control,
                    stores=stores_fact(evidence.control)),
        start=_day(evidence.start), end=_day(evidence.end))
    if interim(evidence):
        return M_("{treated} ordering from {source} against {control} keeping today's practice, {start} to {end} "
                  "(interim: {read} of the {planned} planned days, to end on {last})", read=evidence.days_read,
                  planned=evidence.days_planned, last=_day(planned_end(evidence)), **values)
    if evidence.status == DESIGNED:
        return M_("{treated} ordering from {source} against {control} keeping today's practice, {start} to {end} "
                  "(planned)", **values)
    return M_("{treated} ordering from {source} against {control} keeping today's practice, {start} to {end}",
              **values)


def pilot_sentence(evidence: OnlineEvidence) -> str:
    """``pilot_fact`` in the current language."""
    return render(pilot_fact(evidence))


def detectable_fact(evidence: OnlineEvidence) -> Msg | None:
    """What the design can detect, as a fact: ``a yearly effect of ¥9.66M or more (80%
    power at 5% significance)``; None for evidence stored before designs said so."""
    if evidence.detectable_yearly is None or evidence.power is None or evidence.alpha is None:
        return None
    return M_("a yearly effect of {effect} or more ({power} power at {alpha} significance)",
              effect=Fmt("yen_short", float(evidence.detectable_yearly)),
              power=Fmt("pct", float(evidence.power), {"digits": 0}),
              alpha=Fmt("pct", float(evidence.alpha), {"digits": 0}))


def detectable_text(evidence: OnlineEvidence) -> str | None:
    """``detectable_fact`` in the current language."""
    found = detectable_fact(evidence)
    return None if found is None else render(found)


def piloted_model(evidence: OnlineEvidence) -> str | None:
    """The model the pilot's treated stores ordered from: the published batch's
    (``batch_model``), else — evidence stored before the batch was named, or a pilot only
    designed — the model of the promise (``offline_model``)."""
    return evidence.batch_model or evidence.offline_model


def promised(evidence: OnlineEvidence, savings: float | None, model: str) -> float | None:
    """The offline promise the pilot is read against: the yearly savings the readout
    recorded (the piloted batch's model at its ordering), else the decision's own
    (``savings`` of ``model``) when the pilot ran that model (or did not say which) —
    but none when the readout found nothing to price (the batch's bare forecasts)."""
    if evidence.offline_yearly_savings is not None:
        return evidence.offline_yearly_savings
    if evidence.offline_ordering is not None:  # the piloted ordering was read and could not be priced
        return None
    return savings if piloted_model(evidence) in (None, model) else None


def promise_fact(evidence: OnlineEvidence, promised: float | None) -> Msg | None:
    """The offline promise (``promised``, yen a year; see ``promised``) beside the online
    measurement, as the readout words it (``core.pilot.readout.promise_message``), as a
    fact: ``The backtest said ¥19.2M a year; the pilot measured ¥14.0M (95% interval
    ¥6.00M–¥22.0M).`` None before the readout, or when the readout has no profit estimate."""
    profit = evidence.estimate(PROFIT)
    if evidence.status != READ or profit is None:
        return None
    sentence = readout.promise_message(profit, promised)
    if interim(evidence):
        return M_("Interim, after {read} of the pilot's {planned} days: {sentence}", read=evidence.days_read,
                  planned=evidence.days_planned, sentence=sentence)
    return sentence


def promise_sentence(evidence: OnlineEvidence, promised: float | None) -> str | None:
    """``promise_fact`` in the current language."""
    found = promise_fact(evidence, promised)
    return None if found is None else render(found)


def criterion_source_fact(evidence: OnlineEvidence, estimate: Estimate) -> Msg:
    """Where an online criterion's value comes from, for its evidence line, as a fact."""
    return M_("(From the pilot: difference-in-differences of {treated} treated against {control} control stores, "
              "{start} to {end}, scaled to the chain's {chain} stores for a year; {level} interval {interval}, {p}.)",
              treated=len(evidence.treated), control=len(evidence.control), start=_day(evidence.start),
              end=_day(evidence.end), chain=evidence.chain_stores,
              level=Fmt("pct", float(estimate.level), {"digits": 0}), interval=interval_fact(estimate),
              p=Fmt("p_phrase", _float(estimate.p_value)))


def criterion_source(evidence: OnlineEvidence, estimate: Estimate) -> str:
    """``criterion_source_fact`` in the current language."""
    return render(criterion_source_fact(evidence, estimate))


def waiting_fact(evidence: OnlineEvidence) -> Msg:
    """Why an online criterion is not evaluated yet, and what comes first, as a fact."""
    if interim(evidence):
        return M_("{days_run}: its interim estimates are shown, but the criteria wait for its last day; read it out "
                  "again then.", days_run=days_run_fact(evidence, start=True))
    if evidence.status == DESIGNED:
        return M_("The pilot is designed but not read out yet: {pilot}.", pilot=pilot_fact(evidence))
    return M_("No pilot is designed yet: design one (treated and control stores, its length from a power "
              "calculation).")


def waiting(evidence: OnlineEvidence) -> str:
    """``waiting_fact`` in the current language."""
    return render(waiting_fact(evidence))


def waiting_condition_fact(criteria: Sequence[object], evidence: OnlineEvidence) -> Msg:
    """The condition a pending online criterion puts on the verdict, as a fact: which
    criteria wait for the pilot (``criteria``: their statements) and, when it is
    designed, its stores and dates."""
    values = dict(criteria=_series(list(criteria)), waiting=waiting_fact(evidence))
    if interim(evidence):
        return M_("Not yet evaluated, waiting for the pilot: {criteria}. {waiting} The verdict is at most a "
                  "conditional GO until the pilot has run all its days and is read out.", **values)
    return M_("Not yet evaluated, waiting for the pilot: {criteria}. {waiting} The verdict is at most a conditional "
              "GO until the pilot is read out.", **values)


def waiting_condition(criteria: Sequence[object], evidence: OnlineEvidence) -> str:
    """``waiting_condition_fact`` in the current language."""
    return render(waiting_condition_fact(criteria, evidence))


def _series(items: list[object]) -> object:
    """Items one after another with a semicolon between them (``a; b; c``), as a fact."""
    if len(items) <= 1:
        return items[0] if items else ""
    return M_("{first}; {rest}", first=items[0], rest=_series(items[1:]))


def pilot_step_fact(evidence: OnlineEvidence, plan: object, held: bool = False) -> Msg:
    """The next step of the online evaluation, by how far it got, as a fact (``plan``: the
    problem definition's online evaluation plan, in the PM's words; ``held``: a finished
    pilot left a condition open, so it is no rollout yet)."""
    from core.planning.texts import DEFINITION, fact  # the product's example plan reads in either language

    if interim(evidence):
        left = evidence.days_planned - evidence.days_read
        return nM_("Let the pilot run its remaining {n} day (to {end}), then read it out again and decide again on "
                   "the same criteria.",
                   "Let the pilot run its remaining {n} days (to {end}), then read it out again and decide again on "
                   "the same criteria.", "n", n=left, end=_day(planned_end(evidence)))
    if evidence.status == DESIGNED:
        return M_("Run the pilot as designed: {pilot}. Then read it out (difference-in-differences of treated against "
                  "control stores) and decide again on the same criteria.", pilot=pilot_fact(evidence))
    if evidence.status == READ and held:
        return M_("Do not roll out beyond the pilot's {n} treated stores until the conditions the pilot left open are "
                  "settled; then decide again on the same criteria.", n=len(evidence.treated))
    if evidence.status == READ:
        return M_("Roll out beyond the pilot's {n} treated stores in stages, and watch the published forecasts "
                  "against what then sold (the Forecast watch page).", n=len(evidence.treated))
    written = render(plan).strip()
    if written:
        return M_("Start the online evaluation as planned: {plan}", plan=fact(plan.strip() if isinstance(plan, str)
                                                                             else plan, DEFINITION))
    return M_("Start an online evaluation: a few pilot stores ordering from the forecasts, compared with the others.")


def pilot_step(evidence: OnlineEvidence, plan: object, held: bool = False) -> str:
    """``pilot_step_fact`` in the current language."""
    return render(pilot_step_fact(evidence, plan, held))
