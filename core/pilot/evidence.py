"""What the decision reads of the online evaluation: no pilot yet, a designed pilot, or a
pilot read out — as facts (numbers, dates, store names), never sentences, so a decision
snapshot can store it and render it again.

The readout (``core.pilot.readout``) makes the ``OnlineEvidence`` of a pilot, and
``core.pilot.store.online_evidence`` reads a project's latest one back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from core.i18n import N_, Msg, from_json, gettext, to_json

NONE = "none"  # no pilot designed for the project
DESIGNED = "designed"  # a pilot is designed, not read out yet
READ = "read"  # the pilot was read out
STATUSES = (NONE, DESIGNED, READ)

# The measures of a pilot, each per store and day; the sign of a good effect: profit up,
# waste, lost sales and stockout days down.
PROFIT = "profit"  # yen: revenue less the cost of what was ordered
WASTE_COST = "waste_cost"  # yen: units thrown away at their cost
LOST_MARGIN = "lost_margin"  # yen: demand not met on stockout days at its margin (estimated)
STOCKOUT_DAYS = "stockout_days"  # item-days with an empty shelf
MEASURES = (PROFIT, WASTE_COST, LOST_MARGIN, STOCKOUT_DAYS)
DAYS_PER_YEAR = 365  # a per store-day effect a year: × 365 × the chain's stores
GOOD_DIRECTION = {PROFIT: 1, WASTE_COST: -1, LOST_MARGIN: -1, STOCKOUT_DAYS: -1}


@dataclass(frozen=True)
class Estimate:
    """A difference-in-differences estimate of one measure, with its interval.

    ``per_store_day`` is the effect on one treated store on one day (yen, or item-days
    for stockout days); ``yearly`` the same scaled to the whole chain for a year
    (× 365 days × the chain's stores); ``low`` and ``high`` bound ``yearly`` at
    ``level`` (0.95: a 95 % interval).
    """

    measure: str
    per_store_day: float
    yearly: float
    low: float
    high: float
    p_value: float
    level: float = 0.95


@dataclass(frozen=True)
class OnlineEvidence:
    """The online evidence of a project, as the decision and its PDF show it."""

    status: str = NONE
    design_id: str | None = None
    readout_id: str | None = None
    dataset_id: str | None = None
    store_column: str | None = None  # the key column that names a store
    treated: tuple[str, ...] = ()
    control: tuple[str, ...] = ()
    start: date | None = None  # first day of the pilot
    end: date | None = None  # last day of the pilot (planned, while only designed)
    chain_stores: int = 0  # stores the yearly effects are scaled to
    estimates: tuple[Estimate, ...] = ()
    offline_yearly_savings: float | None = None  # what the backtest's money impact promised a year
    offline_model: str | None = None
    batch_version: int | None = None  # the published batch the treated stores ordered from
    # The readout's notes, as facts (``Msg``; a plain string in evidence stored before notes were facts):
    # ``str(note)`` reads it in the current language.
    notes: tuple[Msg | str, ...] = field(default_factory=tuple)
    batch_model: str | None = None  # the model of that batch (alias)
    detectable_yearly: float | None = None  # the design's minimum detectable yearly effect for the chain (yen)
    power: float | None = None  # the design's power (0.8) ...
    alpha: float | None = None  # ... at this two-sided significance (0.05)
    # How the piloted batch ordered, as its promise was priced, as a fact (``Msg``; plain English in evidence stored
    # before; None: not known).
    offline_ordering: Msg | str | None = None
    design_offline_yearly_savings: float | None = None  # the design's promise (the run's best model), when a readout
    design_offline_model: str | None = None  # prices the batch actually piloted instead
    days_planned: int | None = None  # the pilot's planned days (None: stored before it was kept; read as complete)
    days_read: int | None = None  # the pilot's days the readout read (fewer than planned: an interim readout)

    def estimate(self, measure: str) -> Estimate | None:
        return next((e for e in self.estimates if e.measure == measure), None)

    def to_dict(self) -> dict:
        """JSON-ready: dates as ISO text, the notes and the ordering as message facts
        (``core.i18n.to_json``)."""
        values = asdict(self)
        for key in ("start", "end"):
            values[key] = None if values[key] is None else values[key].isoformat()
        values["notes"] = [to_json(n) for n in self.notes]
        values["offline_ordering"] = to_json(self.offline_ordering)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> OnlineEvidence:
        values = dict(values)
        for key in ("start", "end"):
            values[key] = None if values.get(key) is None else date.fromisoformat(values[key])
        values["estimates"] = tuple(Estimate(**e) for e in values.get("estimates", ()))
        for key in ("treated", "control"):
            values[key] = tuple(values.get(key, ()))
        values["notes"] = tuple(from_json(n) for n in values.get("notes", ()))  # old rows: plain English strings
        values["offline_ordering"] = from_json(values.get("offline_ordering"))
        return cls(**values)


# The one name of each measure for people (the readout, the decision, the report and its
# PDF all use it). Lost-sales margin is estimated (demand on a stockout day is not seen).
# The values are English catalog messages: show them with ``measure_label`` (or ``gettext``).
MEASURE_LABELS = {PROFIT: N_("Profit"), WASTE_COST: N_("Waste cost"), LOST_MARGIN: N_("Lost-sales margin"),
                  STOCKOUT_DAYS: N_("Stockout item-days")}


def measure_label(measure: str) -> str:
    """A measure's name in the current language (``Profit`` / 利益); an unknown key as it is."""
    label = MEASURE_LABELS.get(measure)
    return gettext(label) if label is not None else str(measure)
