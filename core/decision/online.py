"""The online evidence in a decision: what the pilot in a few stores measured, as the
verdict, the report page and the PDF say it.

A pilot (``core.pilot``) is designed, run and read out by difference-in-differences of
treated against control stores, before against during the pilot; its readout is an
``OnlineEvidence`` (facts: stores, dates, estimates with their 95 % intervals). This
module turns those facts into the values the online criteria
(``core.planning.criteria.ONLINE_METRICS``) are evaluated on, and into the sentences and
table rows people read. Nothing here decides: ``core.decision.verdict`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from core import fmt
from core.pilot import readout
from core.pilot.evidence import (
    DESIGNED,
    GOOD_DIRECTION,
    MEASURE_LABELS,
    MEASURES,
    NONE,
    PROFIT,
    READ,
    STOCKOUT_DAYS,
    WASTE_COST,
    Estimate,
    OnlineEvidence,
)

# Which estimate, and which end of it, each online criterion metric reads.
YEARLY, LOW = "yearly", "low"
SOURCES: dict[str, tuple[str, str]] = {
    "online_yearly_savings": (PROFIT, YEARLY),
    "online_savings_lower": (PROFIT, LOW),
    "online_waste_change": (WASTE_COST, YEARLY),
    "online_stockout_change": (STOCKOUT_DAYS, YEARLY),
}
STATUS_LABELS = {NONE: "no pilot", DESIGNED: "pilot designed, not read out yet", READ: "pilot read out"}
INTERIM_LABEL = "pilot read out before its last day (interim)"
STATUS_SHORT = {NONE: "before any pilot", DESIGNED: "before the pilot (designed)", READ: "after the pilot"}
# How an estimate reads, from its 95 % interval and the measure's good direction.
BETTER, WORSE, UNCLEAR = "better", "worse", "no clear change"


def status_label(evidence: OnlineEvidence) -> str:
    """The pilot's status for people, telling an interim readout from a finished one."""
    if evidence.status == READ and interim(evidence):
        return INTERIM_LABEL
    return STATUS_LABELS.get(evidence.status, evidence.status)


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


def days_run_text(evidence: OnlineEvidence) -> str:
    """``the pilot has run 4 of its 28 days (to 2026-11-05; it ends on 2026-11-29)``."""
    return (f"the pilot has run {evidence.days_read} of its {evidence.days_planned} days (to {_day(evidence.end)}; "
            f"it ends on {_day(planned_end(evidence))})")


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


def amount(measure: str, value: float | None, signed: bool = False) -> str:
    """A yearly effect for people: ``¥14,000,000``, ``−1,250 item-days``."""
    if is_yen(measure):
        return fmt.yen(value, signed=signed)
    return f"{fmt.number(value, 0, signed=signed)} item-days"


def amount_short(measure: str, value: float | None, signed: bool = False) -> str:
    """The same in three significant figures: ``¥14.0M``, ``−1,250 item-days``."""
    return fmt.yen_short(value, signed=signed) if is_yen(measure) else amount(measure, value, signed)


def reading(estimate: Estimate) -> str:
    """``better`` or ``worse`` when the whole 95 % interval lies on one side of zero (in
    the measure's good direction: profit up, waste, lost margin and stockouts down),
    else ``no clear change``."""
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


def change_text(estimate: Estimate) -> str:
    """A measure's yearly change with its interval and p-value, worded by its sign:
    ``stockout item-days rose by 5,762 a year (95% interval 564–10,960), p = 0.034``;
    ``stockout item-days changed by −1,825 a year (95% interval −3,000 to 650), p =
    0.210`` when the interval spans zero."""
    name = MEASURE_LABELS.get(estimate.measure, estimate.measure).lower()
    level, p = fmt.pct(estimate.level, 0), fmt.p_phrase(estimate.p_value)

    def short(value: float, signed: bool = False) -> str:
        return fmt.yen_short(value, signed=signed) if is_yen(estimate.measure) else fmt.number(value, 0, signed=signed)

    if estimate.low > 0 or estimate.high < 0:
        verb = "rose" if estimate.yearly > 0 else "fell"
        near, far = sorted((abs(estimate.low), abs(estimate.high)))
        return f"{name} {verb} by {short(abs(estimate.yearly))} a year ({level} interval {short(near)}–{short(far)}), {p}"
    return (f"{name} changed by {short(estimate.yearly, signed=True)} a year ({level} interval {short(estimate.low)} "
            f"to {short(estimate.high)}), {p}")


def interval(estimate: Estimate) -> str:
    """``¥6,000,000 to ¥22,000,000``, ``−3,000 to 650 item-days``."""
    if is_yen(estimate.measure):
        return f"{amount(estimate.measure, estimate.low)} to {amount(estimate.measure, estimate.high)}"
    return f"{fmt.number(estimate.low, 0)} to {amount(estimate.measure, estimate.high)}"


def estimate_rows(evidence: OnlineEvidence) -> list[dict]:
    """The pilot's estimates as table rows, in the order of ``core.pilot.evidence.MEASURES``:
    ``measure`` (its label), ``yearly`` (the chain's yearly effect), ``interval`` (95 %),
    ``p_value``, ``per_store_day`` and ``reading`` — all texts."""
    order = {m: i for i, m in enumerate(MEASURES)}
    rows = []
    for e in sorted(evidence.estimates, key=lambda e: order.get(e.measure, len(order))):
        per_day = (fmt.yen(e.per_store_day, signed=True) if is_yen(e.measure) else
                   f"{fmt.number(e.per_store_day, 2, signed=True)} item-days")
        rows.append({"measure": MEASURE_LABELS.get(e.measure, e.measure),
                     "yearly": amount(e.measure, e.yearly, signed=True),
                     "interval": f"{fmt.pct(e.level, 0)}: {interval(e)}",
                     "p_value": fmt.p_value(e.p_value), "per_store_day": per_day, "reading": reading(e)})
    return rows


def stores_text(stores: Sequence[str], limit: int = 6) -> str:
    """``S001, S002`` — the first ``limit`` and how many more."""
    shown = ", ".join(stores[:limit])
    return shown + (f" and {len(stores) - limit} more" if len(stores) > limit else "")


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else fmt.MISSING


def pilot_sentence(evidence: OnlineEvidence) -> str:
    """The pilot as designed or run, in a sentence without its result: ``2 treated stores
    (S001, S002) ordering from the published forecasts (batch version 3) against 8
    control stores keeping today's practice, 2025-01-06 to 2025-02-02``."""
    if evidence.status == NONE:
        return "no pilot is designed"
    batch = f" (batch version {evidence.batch_version})" if evidence.batch_version is not None else ""
    treated, control = len(evidence.treated), len(evidence.control)
    when = " (planned)" if evidence.status == DESIGNED else ""
    if interim(evidence):
        when = (f" (interim: {evidence.days_read} of the {evidence.days_planned} planned days, to end on "
                f"{_day(planned_end(evidence))})")
    return (f"{treated} treated store{'s' if treated != 1 else ''} ({stores_text(evidence.treated)}) ordering from "
            f"the published forecasts{batch} against {control} control store{'s' if control != 1 else ''} "
            f"({stores_text(evidence.control)}) keeping today's practice, {_day(evidence.start)} to "
            f"{_day(evidence.end)}{when}")


def detectable_text(evidence: OnlineEvidence) -> str | None:
    """What the design can detect: ``a yearly effect of ¥9.66M or more (80% power at 5%
    significance)``; None for evidence stored before designs said so."""
    if evidence.detectable_yearly is None or evidence.power is None or evidence.alpha is None:
        return None
    return (f"a yearly effect of {fmt.yen_short(evidence.detectable_yearly)} or more ({fmt.pct(evidence.power, 0)} "
            f"power at {fmt.pct(evidence.alpha, 0)} significance)")


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


def promise_sentence(evidence: OnlineEvidence, promised: float | None) -> str | None:
    """The offline promise (``promised``, yen a year; see ``promised``) beside the online
    measurement, as the readout words it (``core.pilot.readout.promise_sentence``): ``The
    backtest said ¥19.2M a year; the pilot measured ¥14.0M (95% interval
    ¥6.00M–¥22.0M).`` None before the readout, or when the readout has no profit estimate."""
    profit = evidence.estimate(PROFIT)
    if evidence.status != READ or profit is None:
        return None
    sentence = readout.promise_sentence(profit, promised)
    if interim(evidence):
        return f"Interim, after {evidence.days_read} of the pilot's {evidence.days_planned} days: {sentence}"
    return sentence


def criterion_source(evidence: OnlineEvidence, estimate: Estimate) -> str:
    """Where an online criterion's value comes from, for its evidence line."""
    return (f"(From the pilot: difference-in-differences of {len(evidence.treated)} treated against "
            f"{len(evidence.control)} control stores, {_day(evidence.start)} to {_day(evidence.end)}, scaled to the "
            f"chain's {evidence.chain_stores} stores for a year; {fmt.pct(estimate.level, 0)} interval "
            f"{interval(estimate)}, {fmt.p_phrase(estimate.p_value)}.)")


def waiting(evidence: OnlineEvidence) -> str:
    """Why an online criterion is not evaluated yet, and what comes first."""
    if interim(evidence):
        return (f"{days_run_text(evidence)[0].upper()}{days_run_text(evidence)[1:]}: its interim estimates are "
                "shown, but the criteria wait for its last day; read it out again then.")
    if evidence.status == DESIGNED:
        return f"The pilot is designed but not read out yet: {pilot_sentence(evidence)}."
    return "No pilot is designed yet: design one (treated and control stores, its length from a power calculation)."


def waiting_condition(criteria: Sequence[str], evidence: OnlineEvidence) -> str:
    """The condition a pending online criterion puts on the verdict: which criteria wait
    for the pilot and, when it is designed, its stores and dates."""
    until = "has run all its days and is read out" if interim(evidence) else "is read out"
    return (f"Not yet evaluated, waiting for the pilot: {'; '.join(criteria)}. {waiting(evidence)} The verdict is at "
            f"most a conditional GO until the pilot {until}.")


def pilot_step(evidence: OnlineEvidence, plan: str, held: bool = False) -> str:
    """The next step of the online evaluation, by how far it got (``plan``: the problem
    definition's online evaluation plan, in the PM's words; ``held``: a finished pilot
    left a condition open, so it is no rollout yet)."""
    if interim(evidence):
        left = evidence.days_planned - evidence.days_read
        return (f"Let the pilot run its remaining {left} day{'s' if left != 1 else ''} (to "
                f"{_day(planned_end(evidence))}), then read it out again and decide again on the same criteria.")
    if evidence.status == DESIGNED:
        return (f"Run the pilot as designed: {pilot_sentence(evidence)}. Then read it out (difference-in-differences "
                "of treated against control stores) and decide again on the same criteria.")
    if evidence.status == READ and held:
        return (f"Do not roll out beyond the pilot's {len(evidence.treated)} treated stores until the conditions the "
                "pilot left open are settled; then decide again on the same criteria.")
    if evidence.status == READ:
        return (f"Roll out beyond the pilot's {len(evidence.treated)} treated stores in stages, and watch the published "
                "forecasts against what then sold (the Forecast watch page).")
    plan = plan.strip()
    return (f"Start the online evaluation as planned: {plan}" if plan else
            "Start an online evaluation: a few pilot stores ordering from the forecasts, compared with the others.")
