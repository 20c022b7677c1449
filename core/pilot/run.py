"""A designed pilot, run and read out: the steps the Pilot page and ``python -m core.pilot``
share (no Streamlit here).

- ``offline_estimate``: the promise a pilot is designed for — the yearly savings of a
  backtest run's best model, priced with the project's money settings
  (``core.money.run_impact``);
- ``piloted_promise``: the promise the pilot tests once it ran — the published batch's
  model at the batch's ordering (profit-optimal per item, one service level, or bare
  forecasts, which are not priced), from the run that batch came from;
- ``pilot_status``: where a stored design stands — days of the pilot in the data against
  the days planned, whether the dataset's published batch covers the pilot, whether the
  demo chain can simulate it now, and what to do next;
- ``simulate_design``: the design's pilot simulated on the generated demo chain
  (``core.pilot.simulate``), all of its remaining days or the next few;
- ``read_out_design``: the readout of the design's pre-period and pilot days present
  (``core.pilot.readout``; a pilot still running is read on its days so far and says
  so), on the store-day outcomes priced with the project's money settings
  (``core.money.outcomes``), stored with the project (``core.pilot.store``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pandas as pd

from core import fmt
from core.backtest.engine import dataset_data
from core.backtest.store import get_run, run_forecasts
from core.columns import DATE
from core.data.demo import is_generated
from core.errors import MitoshiError
from core.handoff.store import list_batches
from core.i18n import M_, Fmt, Msg, gettext, nM_
from core.money.impact import FALLBACK_BASELINE, PRACTICE, Economics, ImpactConfig, ImpactResult, ordering_words
from core.money.outcomes import store_day_outcomes
from core.money.store import load_impact_settings
from core.pilot.design import PilotDesign, day, simulated_appends
from core.pilot.evidence import OnlineEvidence, measure_label
from core.pilot.readout import NO_INTERVAL, PilotReadout, interval_message, item_days, joined_list, read_out
from core.pilot.simulate import (
    DEMO_STORE_COLUMN,
    PilotSimulationError,
    SimulatedPilot,
    batch_stores,
    check_batch_stores,
    simulate_pilot,
)
from core.pilot.store import EVIDENCE_KEY, PilotedPromise, latest_readout, save_pilot_readout
from core.planning.store import Project
from core.warehouse import Dataset, Warehouse, quote


class PilotRunError(MitoshiError):
    """A designed pilot cannot be run or read out as asked; the message says what to do."""


# ---------------------------------------------------------------------------------
# The offline promise
# ---------------------------------------------------------------------------------
def project_run(warehouse: Warehouse, project: Project, dataset_id: str | None = None) -> str | None:
    """The project's newest linked run (on ``dataset_id`` when given), or None."""
    runs = [get_run(warehouse, r) for r in project.run_ids]
    runs = [r for r in runs if dataset_id is None or r.dataset_id == dataset_id]
    return max(runs, key=lambda r: r.created_at).run_id if runs else None


def impact_config(warehouse: Warehouse, project_id: str | None, dataset_id: str | None) -> ImpactConfig:
    """The project's money settings for the dataset, as the Money page saved them (the
    defaults where none were saved)."""
    return load_impact_settings(warehouse, project_id, dataset_id) or ImpactConfig()


def offline_estimate(warehouse: Warehouse, project: Project, run_id: str,
                     impact: ImpactResult | None = None) -> tuple[float, str]:
    """The yearly savings (yen a year, the whole dataset) of the model the pilot will test, and
    its alias: the model last published from the run (the stores order from it; the Hand-off
    page offers the decided model first), else the run's model that saves the most; from
    the run's money impact priced with the project's money
    settings for its dataset (``core.money.run_impact.run_impact``: a shelf simulation of
    every model, seconds on the demo chain). ``impact``: that money impact when the caller
    has it already (a page's cache). Raises ``MitoshiError`` when the run has no model
    but today's practice."""
    run = get_run(warehouse, run_id)
    if impact is None:
        from core.money.run_impact import run_impact

        impact = run_impact(warehouse, run_id, impact_config(warehouse, project.project_id, run.dataset_id)).impact
    models = impact.summary[impact.summary["policy"] != impact.baseline]
    if models.empty:
        raise MitoshiError(M_("The run '{name}' has no model to price, only today's practice: give the smallest "
                              "yearly effect worth detecting by hand.", name=run.name))
    published = warehouse.query("SELECT model FROM forecast_batches WHERE run_id = ? ORDER BY created_at DESC, "
                                "version DESC LIMIT 1", [run_id])
    if not published.empty and published["model"].iloc[0] in set(models["policy"]):
        chosen = models[models["policy"] == published["model"].iloc[0]].iloc[0]
    else:
        chosen = models.loc[models["yearly_savings"].idxmax()]
    return float(chosen["yearly_savings"]), str(chosen["policy"])


PROFIT_OPTIMAL_ORDERING = M_("profit-optimal per item")
BARE_ORDERING = M_("the bare forecast")


def batch_ordering(warehouse: Warehouse, dataset_id: str, version: int) -> tuple[Msg, float | None, bool]:
    """How a published batch told the stores to order: (``ordering`` in words, as a fact, its one
    service level or None, whether it has order quantities at all). A batch's
    ``forecast_batches.service_level`` is its one level; empty with order quantities is
    each item at its profit-optimal level (``PublishOptions.profit_optimal``); no order
    quantities is the bare forecast."""
    found = warehouse.query(
        """SELECT b.service_level, (SELECT count(order_quantity) FROM batch_forecasts f
                                    WHERE f.dataset_id = b.dataset_id AND f.version = b.version) AS ordered
           FROM forecast_batches b WHERE b.dataset_id = ? AND b.version = ?""", [dataset_id, version])
    if found.empty or not int(found["ordered"].iloc[0]):
        return BARE_ORDERING, None, False
    level = found["service_level"].iloc[0]
    if pd.isna(level):
        return PROFIT_OPTIMAL_ORDERING, None, True
    return ordering_words(float(level)), float(level), True


def piloted_promise(warehouse: Warehouse, design: PilotDesign,
                    batch_version: int | None) -> tuple[PilotedPromise, Msg | None]:
    """The offline promise of what the pilot's treated stores ordered from — the published
    batch ``batch_version`` of the design's dataset — and a note for the readout when it is
    not the design's promise (another model or ordering, or none can be priced).

    The promise is the yearly savings (yen a year, the whole dataset) of the batch's model
    in the money impact of the run the batch was published from (``forecast_batches.run_id``;
    ``core.money.run_impact``, a shelf simulation, seconds on the demo chain), priced with
    the project's money settings for that run's dataset at the batch's ordering
    (``batch_ordering``): each item at its profit-optimal level, or the batch's one service
    level for every item. A batch without order quantities (the bare forecast) is not
    priced: the money impact prices ordering with safety stock. Without a batch
    (``batch_version`` None) the promise is the design's own."""
    design_promise = PilotedPromise(design.offline_model, design.offline_yearly_savings)
    if batch_version is None:
        return design_promise, None
    found = warehouse.query("SELECT model, run_id FROM forecast_batches WHERE dataset_id = ? AND version = ?",
                            [design.dataset_id, batch_version])
    if found.empty:
        return design_promise, M_("The published batch v{version} the treated stores ordered from was deleted: the "
                                  "pilot is read against the design's promise.", version=batch_version)
    model, run_id = str(found["model"].iloc[0]), found["run_id"].iloc[0]
    ordering, level, ordered = batch_ordering(warehouse, design.dataset_id, batch_version)
    what = M_("{model} at {ordering}", model=Fmt("model_name", model), ordering=ordering)
    if design.offline_yearly_savings is None:
        designed = M_("the design's promise")
    elif design.offline_model:
        designed = M_("the design's promise ({amount} a year, {model})",
                      amount=Fmt("yen_short", float(design.offline_yearly_savings)),
                      model=Fmt("model_name", design.offline_model))
    else:
        designed = M_("the design's promise ({amount} a year)",
                      amount=Fmt("yen_short", float(design.offline_yearly_savings)))
    if not ordered:
        return PilotedPromise(model, None, ordering), M_(
            "The treated stores ordered the bare forecasts of batch v{version} ({model}, no order quantities): the "
            "money impact prices ordering with safety stock, not bare forecasts, so no backtest figure is set beside "
            "the pilot's measurement ({designed} was for ordering with safety stock).", version=batch_version,
            model=Fmt("model_name", model), designed=designed)
    try:
        savings = _batch_savings(warehouse, design.project_id, None if pd.isna(run_id) else str(run_id), model, level)
    except MitoshiError as error:
        return PilotedPromise(model, None, ordering), M_(
            "The treated stores ordered from batch v{version}, {what}; its run cannot be priced ({error}), so no "
            "backtest figure is set beside the pilot's measurement instead of {designed}.", version=batch_version,
            what=what, error=error.args[0] if len(error.args) == 1 else str(error), designed=designed)
    promise = PilotedPromise(model, savings, ordering)
    profit_optimal_design = impact_config(warehouse, design.project_id, design.dataset_id).service_level is None
    if model == design.offline_model and level is None and profit_optimal_design:
        return promise, None
    return promise, M_("The treated stores ordered from batch v{version}, {what}; the pilot is read against that "
                       "batch's own backtest promise, {amount} a year, not {designed}.", version=batch_version,
                       what=what, amount=Fmt("yen_short", float(savings)), designed=designed)


def _batch_savings(warehouse: Warehouse, project_id: str | None, run_id: str | None, model: str,
                   level: float | None) -> float:
    """Yearly savings of ``model`` in ``run_id``'s money impact at one service level
    (``level``) or each item's profit-optimal (None), with the project's money settings.
    Only the model and the baselines are priced: each model's orders are simulated on
    their own, so the figure is the one the whole run's money impact shows."""
    from core.money.run_impact import run_impact

    if run_id is None:
        raise MitoshiError(M_("the batch names no run"))
    run = get_run(warehouse, run_id)
    config = replace(impact_config(warehouse, project_id, run.dataset_id), service_level=level)
    forecasts = run_forecasts(warehouse, run_id)
    forecasts = forecasts[forecasts["model"].isin({model, PRACTICE, FALLBACK_BASELINE})]
    summary = run_impact(warehouse, run_id, config, forecasts=forecasts).impact.summary
    rows = summary[summary["policy"] == model]
    if rows.empty:
        raise MitoshiError(M_("the run '{name}' has no money figure for {model}", name=run.name,
                              model=Fmt("model_name", model)))
    return float(rows["yearly_savings"].iloc[0])


# ---------------------------------------------------------------------------------
# Where a pilot stands
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PilotStatus:
    """A stored design against the data and the published batches now.

    ``days_present``: pilot days (``design.start``..``design.end``) with rows in the data;
    ``data_end``: the data's last day; ``generated``: the dataset is the demo chain (its
    pilot can be simulated); ``batch_version``, ``batch_first``, ``batch_last``: the
    dataset's newest published batch and its dates (None: nothing published);
    ``batch_problem``: why that batch cannot drive the pilot's remaining days (it does not
    cover them, or misses a treated store), None when it can or nothing remains.
    """

    design: PilotDesign
    dataset_name: str
    generated: bool
    data_end: date
    days_present: int
    batch_version: int | None
    batch_first: date | None
    batch_last: date | None
    batch_problem: Msg | str | None  # a fact (``str()`` reads it in the current language)
    batch_ordered_share: float | None = None  # share of the batch's rows with an order quantity

    @property
    def days_planned(self) -> int:
        return self.design.days

    @property
    def complete(self) -> bool:
        return self.days_present >= self.days_planned

    @property
    def running(self) -> bool:
        """Some of the pilot's days are in the data, not all."""
        return 0 < self.days_present < self.days_planned

    @property
    def next_day(self) -> date:
        """The first day of the pilot not in the data yet."""
        return max(self.design.start, self.data_end + timedelta(days=1))

    @property
    def days_remaining(self) -> int:
        return max(0, (self.design.end - self.next_day).days + 1)

    @property
    def horizon_needed(self) -> int:
        """Days a batch published now (it starts the day after the data ends) must forecast
        to cover the rest of the pilot."""
        return max(0, (self.design.end - self.data_end).days)

    @property
    def covered(self) -> bool:
        """A published batch covers the pilot's remaining days for every treated store."""
        return self.batch_version is not None and self.batch_problem is None

    def data_problem(self) -> Msg | None:
        """Why the data does not let the demo chain simulate the pilot's next days (the
        batch aside), as a fact; None when it does."""
        if not self.generated:
            return M_("'{name}' was imported, not generated: the pilot's orders and sales arrive by appending them on "
                      "Import & manage.", name=self.dataset_name)
        if self.complete:
            return M_("All {n} days of the pilot are in the data already: read it out.", n=self.days_planned)
        if self.data_end + timedelta(days=1) < self.design.start:
            gap = (self.design.start - self.data_end).days - 1
            return nM_("The pilot starts on {start} but the data ends on {end}: extend the demo chain by {n} day first "
                       "(Import & manage), or design the pilot again to start the day after the data.",
                       "The pilot starts on {start} but the data ends on {end}: extend the demo chain by {n} days "
                       "first (Import & manage), or design the pilot again to start the day after the data.", "n",
                       start=day(self.design.start), end=day(self.data_end), n=gap)
        if self.days_present == 0 and self.data_end >= self.design.start:
            return M_("The data already goes past the pilot's start ({start}) without its days: design the pilot "
                      "again, to start the day after the data.", start=day(self.design.start))
        return None

    def data_blocker(self) -> str | None:
        """``data_problem`` in the current language."""
        problem = self.data_problem()
        return None if problem is None else str(problem)

    def batch_message(self) -> Msg | str | None:
        """Why no published batch can drive the pilot's remaining days, as a fact; None when one can."""
        if self.batch_version is None:
            return M_("Nothing is published for '{name}' yet: publish a batch with a horizon of at least {n} days on "
                      "the Hand-off page; the treated stores order from it.", name=self.dataset_name,
                      n=self.horizon_needed)
        return self.batch_problem

    def batch_blocker(self) -> str | None:
        """``batch_message`` in the current language."""
        problem = self.batch_message()
        return None if problem is None else str(problem)

    def batch_warning(self) -> str | None:
        """What makes the batch a poor test of the promise although it can drive the pilot:
        no order quantities, so the treated stores order the bare forecast (covering demand on
        about half the days) and not the safety stock the money impact priced."""
        if self.batch_version is None or self.batch_ordered_share is None or self.batch_ordered_share > 0:
            return None
        return gettext("The published batch v{version} has no order quantities: the treated stores would order the "
                       "bare forecast, which falls short of demand on about half the days, not the forecast plus the "
                       "safety stock the money impact priced. For a fair test of the promise, publish again with "
                       "order quantities (profit-optimal per item) on the Hand-off page.").format(
            version=self.batch_version)

    def simulation_problem(self) -> Msg | str | None:
        """Why the demo chain cannot simulate the pilot's next days now, as a fact; None when it can."""
        return self.data_problem() or self.batch_message()

    def simulation_blocker(self) -> str | None:
        """``simulation_problem`` in the current language."""
        problem = self.simulation_problem()
        return None if problem is None else str(problem)

    def sentence(self) -> str:
        """Where the pilot stands, in a sentence (in the current language)."""
        d = self.design
        span = {"start": fmt.date(d.start), "end": fmt.date(d.end), "planned": self.days_planned}
        if self.complete:
            return gettext("The pilot ran {start} to {end}: all {planned} days are in the data.").format(**span)
        if self.running:
            return gettext("The pilot runs {start} to {end}: {present} of its {planned} days are in the data (to "
                           "{last}); {left} to go.").format(present=self.days_present, last=fmt.date(self.data_end),
                                                            left=self.days_remaining, **span)
        return gettext("The pilot is planned for {start} to {end} ({planned} days); none of its days is in the data "
                       "yet.").format(**span)


def days_in_data(warehouse: Warehouse, dataset: Dataset, start: date, end: date) -> int:
    """Distinct dates from ``start`` to ``end`` (inclusive) with at least one row."""
    found = warehouse.query(f"SELECT count(DISTINCT {DATE}) AS n FROM {quote(dataset.table_name)} "
                            f"WHERE {DATE} BETWEEN ? AND ?", [start, end])
    return int(found["n"].iloc[0])


def simulated_batches(warehouse: Warehouse, design: PilotDesign) -> dict[int, tuple[date, date]]:
    """The published batches the design's simulated days ordered from (read from the
    simulated pilots' appends inside its days): version -> (first, last) day simulated
    from it, earliest first. Empty before the pilot's first simulated day, and for
    imported data."""
    found: dict[int, tuple[date, date]] = {}
    for piece in simulated_appends(warehouse, design.dataset_id):
        if piece.start > design.end or piece.end < design.start:
            continue
        was = found.get(piece.version, (piece.start, piece.end))
        found[piece.version] = (min(was[0], piece.start), max(was[1], piece.end))
    return dict(sorted(found.items(), key=lambda item: item[1][0]))


def pilot_status(warehouse: Warehouse, design: PilotDesign) -> PilotStatus:
    """Where ``design`` stands now (``PilotStatus``). Raises ``DatasetNotFoundError`` when
    its dataset was deleted."""
    dataset = warehouse.get_dataset(design.dataset_id)
    present = days_in_data(warehouse, dataset, design.start, design.end)
    batches = list_batches(warehouse, dataset.dataset_id)
    version = first = last = problem = ordered = None
    started = next(iter(simulated_batches(warehouse, design)), None)  # a pilot keeps the batch it started on
    if started is not None and started not in set(batches["version"]):
        problem = M_("The batch v{version} the pilot's first days ordered from was deleted, and a pilot orders from "
                     "one batch: design the pilot again, and publish once, with a horizon covering the whole pilot, "
                     "before it starts.", version=started)
        batches = batches.iloc[0:0]
        version = started
    elif started is not None:
        batches = batches[batches["version"] == started]
    if not batches.empty:
        newest = batches.sort_values("version").iloc[-1]
        version = int(newest["version"])
        ordered = float(warehouse.query(
            "SELECT avg(CASE WHEN order_quantity IS NULL THEN 0 ELSE 1 END) AS share FROM batch_forecasts "
            "WHERE dataset_id = ? AND version = ?", [dataset.dataset_id, version])["share"].iloc[0])
        first, last = pd.Timestamp(newest["first_date"]).date(), pd.Timestamp(newest["last_date"]).date()
        next_day = max(design.start, dataset.end_date + timedelta(days=1))
        horizon = max(1, (design.end - dataset.end_date).days)
        if next_day <= design.end and (first > next_day or last < design.end) and started is not None:
            problem = M_("The pilot's batch v{version} forecasts {first} to {last}; its days still to run are {next} "
                         "to {end}, and a pilot orders from one batch (its first days ordered from this one): read "
                         "out the days it has, or design the pilot again and publish once, with a horizon covering "
                         "the whole pilot, before it starts.", version=version, first=day(first), last=day(last),
                         next=day(next_day), end=day(design.end))
        elif next_day <= design.end and (first > next_day or last < design.end):
            # A batch published now starts the day after the data: the horizon is counted from there.
            problem = M_("The published batch (version {version}) forecasts {first} to {last}; the pilot's days still "
                         "to run are {next} to {end}. Publish a batch with a horizon of at least {horizon} days on the "
                         "Hand-off page (it forecasts from the day after the data ends).", version=version,
                         first=day(first), last=day(last), next=day(next_day), end=day(design.end),
                         horizon=horizon)
        elif next_day <= design.end and design.store_column == DEMO_STORE_COLUMN in dataset.spec.keys:
            try:  # the treated stores, as the simulation will check them (without reading the batch's rows)
                check_batch_stores(design.treated, batch_stores(warehouse, dataset, version), version)
            except PilotSimulationError as error:
                problem = error.args[0]
    return PilotStatus(design=design, dataset_name=dataset.name, generated=is_generated(dataset),
                       data_end=dataset.end_date, days_present=present, batch_version=version, batch_first=first,
                       batch_last=last, batch_problem=problem, batch_ordered_share=ordered)


# ---------------------------------------------------------------------------------
# Running it on the demo chain
# ---------------------------------------------------------------------------------
def simulate_design(warehouse: Warehouse, design: PilotDesign, days: int | None = None,
                    batch_version: int | None = None) -> SimulatedPilot:
    """Simulate the stored ``design``'s pilot on the demo chain and append it: its next
    ``days`` days not in the data yet (default: all that remain), the treated stores
    ordering from the published batch ``batch_version`` (default: the newest; once some
    of the pilot's days are simulated, the batch they ordered from), the controls on
    today's practice (``core.pilot.simulate.simulate_pilot``).

    One pilot, one batch: simulating its days in parts from two batches is refused
    (``PilotRunError``) rather than recorded, because the readout sets one offline
    promise (the batch's model at its ordering) beside one measurement, and a pilot
    split between two forecasts — perhaps two models, or two orderings — tests neither.
    Publish once, with a horizon covering the whole pilot, before it starts; a batch
    published in the middle (a weekly refit) does not change what the pilot orders from.

    Raises ``PilotRunError`` for an unsaved design, an imported dataset, a pilot already in
    the data, a start that is not the day after the data, ``days`` outside
    1..remaining, or no published batch covering the days (saying which horizon to
    publish); ``PilotSimulationError`` for the simulation's own refusals."""
    if design.design_id is None:
        raise PilotRunError(M_("Save the pilot design first: a simulated pilot belongs to a stored design."))
    status = pilot_status(warehouse, design)
    earlier = simulated_batches(warehouse, design)
    if earlier:  # the pilot ran on a batch already: its other days order from the same one
        started, (first, last) = next(iter(earlier.items()))
        if batch_version is not None and batch_version != started:
            raise PilotRunError(M_(
                "The pilot's days {first} to {last} ordered from batch v{version}; a pilot orders from one batch, or its "
                "readout would measure a mix of two forecasts against one promise. Simulate its other days from "
                "v{version}, or design the pilot again and publish once, with a horizon covering the whole pilot, "
                "before it starts.", first=day(first), last=day(last), version=started))
        batch_version = started
    # A version named is checked by the simulation itself; the newest (or the pilot's own) batch is checked here.
    blocker = status.data_problem() or (status.batch_message() if batch_version is None or earlier else None)
    if blocker:
        raise PilotRunError(blocker)
    remaining = status.days_remaining
    days = remaining if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= remaining:
        raise PilotRunError(nM_("The pilot has {n} day left to simulate; choose 1 to {n}, not {days}.",
                                "The pilot has {n} days left to simulate; choose 1 to {n}, not {days}.", "n",
                                n=remaining, days=repr(days)))
    return simulate_pilot(warehouse, design.dataset_id, design.store_column, design.treated, status.next_day, days,
                          batch_version)


def pilot_batch_version(warehouse: Warehouse, design: PilotDesign) -> int | None:
    """The published batch the treated stores ordered from: on the demo chain the one the
    simulated pilot's appends name (``simulated_batches``; one per pilot), else the
    newest batch whose dates include the pilot's first day; None when none."""
    simulated = simulated_batches(warehouse, design)
    if simulated:  # one batch (simulate_design refuses a second); of an older mix, the first
        return next(iter(simulated))
    batches = list_batches(warehouse, design.dataset_id)
    if batches.empty:
        return None
    start = pd.Timestamp(design.start)
    covering = batches[(pd.to_datetime(batches["first_date"]) <= start) & (pd.to_datetime(batches["last_date"]) >= start)]
    return int(covering["version"].max()) if not covering.empty else None


# ---------------------------------------------------------------------------------
# Reading it out
# ---------------------------------------------------------------------------------
def design_outcomes(warehouse: Warehouse, design: PilotDesign) -> pd.DataFrame:
    """The store-day outcomes (``core.money.outcomes.store_day_outcomes``) of the design's
    pre-period and pilot days, priced with the project's money settings for the dataset."""
    dataset = warehouse.get_dataset(design.dataset_id)
    settings = load_impact_settings(warehouse, design.project_id, dataset.dataset_id)
    economics = settings.economics if settings is not None else Economics()
    # Balanced: each store read on the series it sold throughout the window (a series launched or ended
    # between the pre-period and the pilot would move the store's mean with nothing done); the readout's
    # notes count what was left out.
    return store_day_outcomes(dataset_data(warehouse, dataset), warehouse.side_table(dataset, "items"), economics,
                              design.store_column, start=design.pre_start, end=design.end, balanced=True)


def exclusion_note(design: PilotDesign, exclude: tuple[str, ...]) -> Msg:
    """The readout's note on the stores ``exclude`` leaves out (names already checked), as a fact."""
    partner = {a: b for pair in design.pairs for a, b in (pair, pair[::-1])}
    parts = []
    for store in exclude:
        treated = store in design.treated
        mate = partner.get(store)
        if mate is None:
            parts.append(M_("{store} (treated)", store=store) if treated else M_("{store} (control)", store=store))
        elif mate in exclude:
            parts.append(M_("{store} (treated, paired with {mate}, also left out)", store=store, mate=mate) if treated
                         else M_("{store} (control, paired with {mate}, also left out)", store=store, mate=mate))
        else:
            parts.append(M_("{store} (treated, paired with {mate}, which stays in)", store=store, mate=mate)
                         if treated else
                         M_("{store} (control, paired with {mate}, which stays in)", store=store, mate=mate))
    return M_("Left out of this readout: {stores}. Only the stores named are left out, not their pair partners: the "
              "difference-in-differences compares the treated stores' mean change with the control stores', which "
              "needs no pairs, and keeping a partner keeps its data; the two groups are less alike than designed (see "
              "the balance before the pilot), and with fewer stores the interval is wider.",
              stores=joined_list(parts))


def _exclude(design: PilotDesign, exclude: tuple[str, ...]) -> tuple[str, ...]:
    """``exclude`` checked against the design's stores: unique, in the design, leaving a
    treated store and three stores in all."""
    exclude = tuple(dict.fromkeys(str(s).strip() for s in exclude if str(s).strip()))
    stores = (*design.treated, *design.control)
    unknown = [s for s in exclude if s not in stores]
    if unknown:
        raise PilotRunError(nM_("{unknown} is not in the pilot: leave out only its stores ({stores}).",
                                "{unknown} are not in the pilot: leave out only its stores ({stores}).", "n",
                                unknown=", ".join(unknown), n=len(unknown), stores=", ".join(stores)))
    treated = [s for s in design.treated if s not in exclude]
    control = [s for s in design.control if s not in exclude]
    if not treated or not control or len(treated) + len(control) < 3:
        raise PilotRunError(M_("Leaving out {stores} leaves {treated} treated and {control} control stores; a "
                               "difference-in-differences with an interval needs a treated and a control store and "
                               "three in all: append the missing days instead.", stores=", ".join(exclude),
                               treated=len(treated), control=len(control)))
    return exclude


def _check_piloted(warehouse: Warehouse, design: PilotDesign, version: int | None) -> None:
    """Refuse to read out days on which no store ordered from a forecast: on the demo chain,
    pilot days added as ordinary days (the chain extended, not a simulated pilot); on
    imported data, a pilot whose first day no published batch covers (``version``: the
    design's ``pilot_batch_version``)."""
    dataset = warehouse.get_dataset(design.dataset_id)
    present = days_in_data(warehouse, dataset, design.start, design.end)
    if is_generated(dataset):
        ranges = simulated_batches(warehouse, design).values()
        pilot_days = (design.start + timedelta(days=d) for d in range((design.end - design.start).days + 1))
        ordinary = present - sum(any(a <= day <= b for a, b in ranges) for day in pilot_days)
        if ordinary > 0:
            raise PilotRunError(M_(
                "{ordinary} of the pilot's {present} days in '{name}' are ordinary days of the demo chain (its history, "
                "or days it was extended by), not simulated as the pilot: no store ordered from a forecast on them, so "
                "there is nothing to read out there. Design a new pilot starting the day after the data ends, publish "
                "its batch, and simulate it.", ordinary=ordinary, present=present, name=dataset.name))
    elif present and version is None:
        raise PilotRunError(M_(
            "No batch published for '{name}' covers the pilot's first day ({start}): the treated stores had no forecast "
            "to order from. Publish the batch the stores order from (Hand-off) before the pilot starts; a readout "
            "without one would measure nothing of the model.", name=dataset.name, start=day(design.start)))


def read_out_design(warehouse: Warehouse, design: PilotDesign, level: float = 0.95,
                    exclude: tuple[str, ...] = ()) -> tuple[PilotReadout, str]:
    """Read the stored ``design``'s pilot out and store the readout with the project.

    The difference-in-differences (``core.pilot.readout.read_out``) compares the pilot's
    days present in the data (``design.start`` to ``design.end``; a pilot still running is
    read on its days so far, and the readout notes it) with the design's pre-period (the
    ``design.pre_days`` before the start), on the outcomes of ``design_outcomes``, scaled
    to ``design.chain_stores``; ``level`` is the intervals' confidence. The readout is
    stored (``core.pilot.store.save_pilot_readout``: its dict with the ``OnlineEvidence``
    under ``"evidence"``, naming the batch of ``pilot_batch_version``), which
    ``core.pilot.store.online_evidence`` then reads as status READ. The promise it is
    read against is the piloted batch's own (``piloted_promise``: its model at its
    ordering, from the run it was published from), noted when it is not the design's.

    Returns the readout and its id. Raises ``PilotRunError`` for an unsaved design,
    ``ReadoutInputError`` when no pilot day is in the data yet or stores miss days, and
    ``ImpactInputError`` when the data cannot be priced.

    ``exclude``: stores of the design left out of this readout (one that misses days, say);
    only the stores named, not their pair partners (``exclusion_note`` says why), noted
    in the readout and absent from the evidence's treated and control stores. Raises
    ``PilotRunError`` for a store not in the pilot, or when too few stores would remain.
    """
    if design.design_id is None:
        raise PilotRunError(M_("Save the pilot design first: a readout belongs to a stored design."))
    version = pilot_batch_version(warehouse, design)
    _check_piloted(warehouse, design, version)
    exclude = _exclude(design, tuple(exclude))
    outcomes = design_outcomes(warehouse, design)
    readout = read_out(outcomes, [s for s in design.treated if s not in exclude],
                       [s for s in design.control if s not in exclude],
                       (design.pre_start, design.start - timedelta(days=1)), (design.start, design.end),
                       design.chain_stores, level)
    if exclude:
        readout = replace(readout, notes=(exclusion_note(design, exclude), *readout.notes))
    if readout.pilot_days < design.days:
        note = M_("Read on {read} of the {planned} planned days (to {last}): the pilot is still running, and its "
                  "interval narrows as its days come in. Read it out again when it ends on {end}.",
                  read=readout.pilot_days, planned=design.days, last=day(readout.during[1]), end=day(design.end))
        readout = replace(readout, notes=(note, *readout.notes))
    promise, note = piloted_promise(warehouse, design, version)
    if note:
        readout = replace(readout, notes=(*readout.notes, note))
    readout_id = save_pilot_readout(warehouse, design, readout, version, promise)
    return readout, readout_id


@dataclass(frozen=True)
class StoredReadout:
    """A readout as stored: the readout, the evidence the decision reads, when."""

    readout_id: str
    created_at: datetime
    readout: PilotReadout
    evidence: OnlineEvidence


def stored_readout(warehouse: Warehouse, design: PilotDesign) -> StoredReadout | None:
    """The newest stored readout of the stored ``design``, or None."""
    if design.design_id is None:
        return None
    values = latest_readout(warehouse, design.project_id, design.design_id)
    if values is None:
        return None
    evidence = OnlineEvidence.from_dict(values[EVIDENCE_KEY])
    return StoredReadout(readout_id=values["readout_id"], created_at=datetime.fromisoformat(values["created_at"]),
                         readout=PilotReadout.from_dict(values),
                         evidence=replace(evidence, readout_id=evidence.readout_id or values["readout_id"]))


def readout_table(readout: PilotReadout) -> pd.DataFrame:
    """The overall estimates for people, one row per measure: Measure, Effect per store-day,
    Yearly for the chain, 95 % interval (yearly), p-value — texts from ``core.fmt``
    (stockout days in item-days, the rest in yen), headers and words in the current
    language."""
    level = fmt.pct(readout.level, 0)
    rows = []
    for row in readout.overall.itertuples(index=False):
        days = row.measure == "stockout_days"
        if row.measure in NO_INTERVAL:
            interval = gettext("no interval: an estimate")
        elif days:
            interval = str(M_("{low} to {high} item-days", low=Fmt("number", float(row.yearly_low), {"digits": 0}),
                              high=Fmt("number", float(row.yearly_high), {"digits": 0})))
        else:
            interval = str(interval_message(row.yearly_low, row.yearly_high))
        rows.append({
            gettext("Measure"): measure_label(row.measure),
            gettext("Effect per treated store-day"): str(item_days(row.per_store_day, 2, signed=True)) if days
            else fmt.yen(row.per_store_day, signed=True),
            gettext("Yearly for the chain"): str(item_days(row.yearly, 0, signed=True)) if days
            else fmt.yen_short(row.yearly, signed=True),
            gettext("{level} interval (yearly)").format(level=level): interval,
            gettext("p-value"): "" if row.measure in NO_INTERVAL else fmt.p_value(row.p_value)})
    return pd.DataFrame(rows)
