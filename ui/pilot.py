"""The Pilot page in the browser: design the pilot, run it on the demo chain (or see its
appended days), read it out and take its evidence to the decision. The steps are
``core.pilot.run``'s; this module draws them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest.store import RunInfo, list_runs
from core.errors import DatasetNotFoundError, MitoshiError
from core.i18n import M_, N_, Fmt
from core.i18n import gettext as _
from core.i18n import ngettext, said
from core.money.impact import Economics, ImpactConfig
from core.pilot import charts
from core.pilot.design import (
    MAX_DEFAULT_TREATED,
    MAX_WEEKS,
    SMD_ACCEPTABLE,
    SMD_GOOD,
    SMD_GRADES,
    DesignOptions,
    PilotDesign,
    PilotHistory,
    design_pilot,
    pilot_history,
    readout_set_aside,
    redesign_weeks,
    store_column,
    store_names,
)
from core.pilot.evidence import MEASURES, PROFIT, measure_label
from core.pilot.readout import (
    METHOD,
    PilotReadout,
    ReadoutInputError,
    effect_sentence,
    item_days,
    promise_sentence,
)
from core.pilot.run import (
    PilotStatus,
    StoredReadout,
    impact_config,
    offline_estimate,
    pilot_status,
    read_out_design,
    readout_table,
    simulate_design,
    stored_readout,
)
from core.pilot.store import latest_design, list_designs, save_design
from core.planning import store as planning
from core.planning.store import Project
from core.text import md
from core.warehouse import Dataset, Warehouse
from ui.backtest import run_revision
from ui.money import cached_impact, run_picker
from ui.state import dataset_picker, get_warehouse, show_error, table

TRUTH_KEY = "pilot_truth_{}"  # the demo's true effects of the last simulation, per design
DONE_KEY = "pilot_done_{}"  # what the last simulation did, shown after the page reruns
REFUSED_KEY = "pilot_refused_{}"  # the readout's refusal because stores miss days, per design
EXCLUDE_KEY = "pilot_exclude_{}"  # the stores left out of the readout, per design
PRESELECT_KEY = "pilot_exclude_next_{}"  # the stores a refusal named, chosen before the picker is drawn again


# ---------------------------------------------------------------------------------
# Cached computations (seconds each on the demo chain)
# ---------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def _history(dataset_id: str, fingerprint: str, column: str, pre_days: int, economics: Economics) -> PilotHistory:
    warehouse = get_warehouse()
    return pilot_history(warehouse, warehouse.get_dataset(dataset_id), column, pre_days, economics)


def _promise(run: RunInfo, config: ImpactConfig, project: Project) -> tuple[float, str]:
    """The promise the pilot is sized on: the money impact shared with the Money page's cache, the
    model read now (the one last published from the run changes without the run changing)."""
    impact = cached_impact(run.run_id, config, run_revision(run.run_id))
    return offline_estimate(get_warehouse(), project, run.run_id, impact)


# ---------------------------------------------------------------------------------
# 1 · Design
# ---------------------------------------------------------------------------------
def _draft_key(pid: str) -> str:
    return f"pilot_draft_{pid}"


def design_section(warehouse: Warehouse, project: Project) -> PilotDesign | None:
    """The saved design shown, and the form for a new one; returns the saved design."""
    pid = project.project_id
    try:
        saved = latest_design(warehouse, pid)
    except MitoshiError as error:
        show_error(error)
        saved = None
    if saved is not None:
        history = list_designs(warehouse, pid)
        dataset = design_dataset(warehouse, saved)
        name = dataset.name if dataset is not None else saved.dataset_name
        when = {"day": fmt.date(saved.created_at), "time": f"{saved.created_at:%H:%M}", "n": len(history)}
        if name and len(history) > 1:
            saved_text = _("Saved design of {day} {time} on **{name}** ({n} designs saved for this project; the newest "
                           "is in force).").format(name=md(name), **when)
        elif name:
            saved_text = _("Saved design of {day} {time} on **{name}**.").format(name=md(name), **when)
        elif len(history) > 1:
            saved_text = _("Saved design of {day} {time} ({n} designs saved for this project; the newest is in "
                           "force).").format(**when)
        else:
            saved_text = _("Saved design of {day} {time}.").format(**when)
        st.success(saved_text, icon=":material/check_circle:")
        if dataset is None:
            st.warning(md(deleted_sentence(saved)), icon=":material/delete:")
        render_design(saved, f"saved_{saved.design_id}")
    with st.expander(_("Design a new pilot") if saved is not None else _("Design the pilot"), expanded=saved is None,
                     icon=":material/edit:"):
        draft = design_form(warehouse, project)
        if draft is not None:
            draft = draft_view(warehouse, draft)
    return saved


def design_dataset(warehouse: Warehouse, design: PilotDesign) -> Dataset | None:
    """The dataset the design was made on; None when it was deleted since."""
    try:
        return warehouse.get_dataset(design.dataset_id)
    except DatasetNotFoundError:
        return None


def deleted_sentence(design: PilotDesign) -> str:
    """What a design whose dataset was deleted can still show."""
    if design.dataset_name:
        return _("The dataset '{name}' was deleted: the pilot cannot be run or read again; its stored readout is shown. "
                 "Design a new pilot on another dataset below.").format(name=design.dataset_name)
    return _("The dataset this pilot was designed on was deleted: the pilot cannot be run or read again; its stored "
             "readout is shown. Design a new pilot on another dataset below.")


def _source(warehouse: Warehouse) -> tuple[RunInfo | None, Dataset | None]:
    """The backtest run whose promise the pilot tests, and its dataset; without any run,
    a dataset alone (the smallest effect is then typed)."""
    if list_runs(warehouse):
        run = run_picker("pilot_run", label=_("Backtest run whose promise the pilot tests"))
        if run is None or run.dataset_id is None:
            return run, None
        try:
            return run, warehouse.get_dataset(run.dataset_id)
        except DatasetNotFoundError:
            st.warning(_("The dataset '{dataset}' of the run '{run}' was deleted: pick another run.").format(
                dataset=md(run.dataset_name), run=md(run.name)), icon=":material/delete:")
            return run, None
    st.info(_("No backtest is stored yet, so there is no offline promise to test: the pilot can still be designed, "
              "with the smallest yearly effect worth detecting typed below."), icon=":material/info:")
    return None, dataset_picker(warehouse)


def design_form(warehouse: Warehouse, project: Project) -> PilotDesign | None:
    """The choices of a design and the "Design the pilot" button; returns the draft."""
    pid = project.project_id
    run, dataset = _source(warehouse)
    if dataset is None:
        return st.session_state.get(_draft_key(pid))
    try:
        default_column = store_column(dataset)
    except MitoshiError as error:
        show_error(error)
        return None
    config = impact_config(warehouse, pid, dataset.dataset_id)
    promise = model = None
    if run is not None:
        with st.spinner(_("Pricing the run's forecasts for the offline promise…")):
            try:
                promise, model = _promise(run, config, project)
            except MitoshiError as error:
                show_error(error)
    if promise is not None:
        st.markdown(_("**Offline promise:** {model} saves **{amount} a year** against today's practice in the "
                      "backtest '{run}', priced with the project's money settings (Money impact page). The pilot "
                      "tests it.").format(model=md(fmt.model_name(model)), amount=fmt.yen_short(promise),
                                          run=md(run.name)))
    keys = list(dataset.spec.keys)
    key = f"pilot_{pid}_{dataset.dataset_id}"
    a, b, c = st.columns(3)
    column = a.selectbox(_("Column naming the store"), keys, index=keys.index(default_column), key=f"{key}_column",
                         help=_("The key column whose values are stores: treated and control are whole stores."))
    stores = store_names(warehouse, dataset, column)
    most = max(2, len(stores) // 2)
    treated = b.number_input(_("Treated stores"), min_value=2, max_value=most,
                             value=min(most, max(2, min(len(stores) // 2, MAX_DEFAULT_TREATED))), step=1,
                             key=f"{key}_treated",
                             help=_("Stores that order from the model's forecasts; as many matched stores keep "
                                    "today's practice as controls."))
    pinned = c.multiselect(_("Stores that must be treated (optional)"), stores, key=f"{key}_pinned",
                           help=_("A store the business wants in the pilot; the design finds its control."),
                               placeholder=_("Choose options"))
    d, e, f, g, h = st.columns([1, 1, 1.3, 1, 0.8])
    alpha = d.select_slider(_("Significance"), [0.01, 0.05, 0.10], value=0.05, format_func=lambda v: fmt.pct(v, 0),
                            key=f"{key}_alpha",
                            help=_("The chance of calling an effect that is not there (two-sided)."))
    power = e.select_slider(_("Power"), [0.7, 0.8, 0.9], value=0.8, format_func=lambda v: fmt.pct(v, 0),
                            key=f"{key}_power",
                            help=_("The chance of detecting an effect of the size worth detecting."))
    offered = promise is not None and promise > 0
    # Without a promise, the smallest effect worth having is the one that pays for running the model: the
    # problem definition's yearly running cost. Without that either, the user types it (no made-up default).
    latest = planning.latest_definition(warehouse, pid)
    running = latest.definition.running_cost_yen_per_year if latest is not None else None
    default_effect = float(round(promise)) if offered else float(running) if running and running > 0 else None
    effect = f.number_input(
        _("Smallest yearly effect worth detecting (¥)"), min_value=1.0, value=default_effect, step=100_000.0,
        format="%.0f", key=f"{key}_effect_{run.run_id if run else ''}", placeholder=_("yen a year"),
        help=(_("Default: the offline promise, the backtest's yearly savings for the chain. The pilot's length is "
                "chosen to detect an effect this large.") if offered else
              _("Default: the problem definition's yearly running cost, the least a model must earn to pay for "
                "itself. The pilot's length is chosen to detect an effect this large.") if default_effect is not None
              else _("The pilot's length is chosen to detect an effect this large.")))
    if effect is not None:
        amount = fmt.yen_short(effect)
        if offered and abs(effect - default_effect) < 0.5:
            f.caption(_("{amount} a year — the offline promise").format(amount=amount))
        elif offered:
            f.caption(_("{amount} a year (the offline promise: {promise})").format(amount=amount,
                                                                                  promise=fmt.yen_short(promise)))
        elif default_effect is not None and abs(effect - default_effect) < 0.5:
            f.caption(_("{amount} a year — the yearly running cost").format(amount=amount))
        else:
            f.caption(_("{amount} a year").format(amount=amount))
    pre_weeks = g.number_input(_("Weeks compared before"), min_value=2, max_value=52, value=8, step=1,
                               key=f"{key}_pre",
                               help=_("The pre-period: stores are matched on it, and the readout compares the pilot "
                                      "with it (at least as long as the pilot)."))
    seed = h.number_input(_("Seed"), min_value=0, value=0, step=1, key=f"{key}_seed",
                          help=_("The coin that picks which store of each matched pair is treated."))
    if st.button(_("Design the pilot"), type="primary", icon=":material/science:", key=f"{key}_go"):
        if effect is None:
            st.error(_("Type the smallest yearly effect worth detecting (yen a year for the chain): the pilot's length "
                       "is chosen to detect it. Pricing a backtest run on the Money page, or a yearly running cost in "
                       "the problem definition, fills it in."), icon=":material/error:")
            return st.session_state.get(_draft_key(pid))
        try:
            options = DesignOptions(treated=int(treated),
                                    pinned=tuple(pinned), pre_weeks=int(pre_weeks), alpha=alpha, power=power,
                                    smallest_effect_yearly=float(effect), seed=int(seed))
            with st.spinner(_("Matching the stores and measuring how their profit varies in the history…")):
                history = _history(dataset.dataset_id, dataset.fingerprint, column, options.pre_days,
                                   config.economics)
                draft = design_pilot(history, options, pid, dataset.dataset_id, column, promise, model)
            st.session_state[_draft_key(pid)] = draft
        except MitoshiError as error:
            show_error(error)
    return st.session_state.get(_draft_key(pid))


def draft_view(warehouse: Warehouse, draft: PilotDesign) -> PilotDesign:
    """A designed, unsaved pilot: its length can be overridden, then it is saved."""
    st.markdown(_("**The designed pilot** (not saved yet)"))
    key = f"pilot_draft_{draft.project_id}_{draft.created_at.isoformat()}"
    left, _right = st.columns([1, 2])
    weeks = left.number_input(_("Pilot length in weeks (the power calculation chose {weeks})").format(weeks=draft.weeks),
                              min_value=1, max_value=MAX_WEEKS, value=draft.weeks, step=1, key=f"{key}_weeks",
                              help=_("1 to {most} weeks: a shorter pilot detects only a larger effect.").format(
                                  most=MAX_WEEKS))
    shown = draft
    if weeks != draft.weeks:
        try:
            shown = redesign_weeks(draft, int(weeks))
        except MitoshiError as error:
            show_error(error)
    render_design(shown, key)
    set_aside = readout_set_aside(warehouse, draft.project_id)
    confirmed = True
    if set_aside:
        st.warning(md(set_aside), icon=":material/warning:")
        confirmed = st.checkbox(_("Save the new design anyway, setting that readout aside"), key=f"{key}_replace")
    if st.button(_("Save design"), type="primary", icon=":material/save:", key=f"{key}_save", disabled=not confirmed):
        try:
            save_design(warehouse, shown)
        except MitoshiError as error:
            show_error(error)
        else:
            st.session_state.pop(_draft_key(draft.project_id), None)
            st.rerun()
    return shown


def render_design(design: PilotDesign, key: str) -> None:
    """A design as a PM reads it: length and dates, the sentence of the power
    calculation, the pairs side by side, their balance and the MDE by length."""
    k = len(design.pairs)
    span = _("{start} to {end}").format(start=fmt.date(design.start), end=fmt.date(design.end))
    cols = st.columns(4)
    cols[0].metric(_("Length"), _("{n} weeks").format(n=design.weeks), help=span)
    cols[1].metric(_("Treated · control stores"), f"{k} · {k}",
                   help=_("of the chain's {n} stores").format(n=design.chain_stores))
    cols[2].metric(_("Smallest detectable effect"), _("{amount} a year").format(amount=fmt.yen_short(design.mde_yearly)),
                   help=_("{power} power at {alpha} significance").format(power=fmt.pct(design.power, 0),
                                                                          alpha=fmt.pct(design.alpha, 0)))
    cols[3].metric(_("Worth detecting"), _("{amount} a year").format(amount=fmt.yen_short(design.smallest_effect_yearly)),
                   help=_("the offline promise") if design.offline_yearly_savings is not None and
                   abs(design.offline_yearly_savings - design.smallest_effect_yearly) < 1 else _("typed"))
    carry_over = design.carry_over_sentence()
    if carry_over:
        st.info(md(carry_over), icon=":material/history:")
    st.caption(_("Pilot {start} to {end} ({days} days), compared with the {pre} days before ({first} to "
                 "{last}).").format(start=fmt.date(design.start), end=fmt.date(design.end), days=design.days,
                                    pre=design.pre_days, first=fmt.date(design.pre_start),
                                    last=fmt.date(design.start - pd.Timedelta(days=1))))
    (st.success if design.meets_target else st.warning)(md(design.duration_sentence()),
                                                        icon=":material/timer:")
    st.markdown(_("**Treated and control stores, pair by pair** (sales a day over the {weeks} weeks before the "
                  "pilot)").format(weeks=design.pre_days // 7))
    table(balance_frame(design))
    st.caption(md(smd_sentence(design)))
    st.plotly_chart(charts.balance_chart(design), width="stretch", key=f"{key}_balance")
    st.plotly_chart(charts.mde_chart(design), width="stretch", key=f"{key}_mde")


def balance_frame(design: PilotDesign) -> pd.DataFrame:
    """The pairs for people: treated and control side by side with region, size and sales
    a day (texts from ``core.fmt``)."""
    yen = design.sales_unit == "yen"
    headers = {"T": (_("Region (T)"), _("Size (T)"), _("Sales a day (T)")),
               "C": (_("Region (C)"), _("Size (C)"), _("Sales a day (C)"))}
    rows = []
    for b in design.balance:
        row = {_("Pair"): b.pair,
               _("Treated"): _("{store} (pinned)").format(store=b.treated_label) if b.pinned else b.treated_label}
        for side, region, size, sales, label in (("T", b.treated_region, b.treated_size, b.treated_sales, None),
                                                 ("C", b.control_region, b.control_size, b.control_sales,
                                                  b.control_label)):
            if label is not None:
                row[_("Control")] = label
            if region is not None:
                row[headers[side][0]] = region
            if size is not None:
                row[headers[side][1]] = fmt.trimmed(size, 2)
            row[headers[side][2]] = fmt.yen(sales) if yen else _("{n} units").format(n=fmt.number(sales))
        if b.same_region is not None:
            row[_("Same region")] = _("yes") if b.same_region else _("no")
        rows.append(row)
    return pd.DataFrame(rows)


def smd_sentence(design: PilotDesign) -> str:
    """The balance of the groups by standardised mean differences, graded."""
    names = {"sales": _("sales a day"), "size": _("store size")}
    parts = [_("{name} {smd} ({grade})").format(name=names.get(n, n), smd=fmt.number(v, 2, signed=True),
                                                grade=_(SMD_GRADES[design.smd_grade(n)]))
             for n, v in design.smd.items()]
    return _("Balance of the treated against the control group, as standardised mean differences: {parts}. Below "
             "{good} is good, below {acceptable} acceptable; stores within a pair are drawn by a seeded coin, so no "
             "one chose who gets the model.").format(parts=_(", ").join(parts), good=f"{SMD_GOOD:g}",
                                                     acceptable=f"{SMD_ACCEPTABLE:g}")


# ---------------------------------------------------------------------------------
# 2 · Run
# ---------------------------------------------------------------------------------
def run_section(warehouse: Warehouse, design: PilotDesign) -> PilotStatus | None:
    """Where the pilot stands; on the demo chain, the button that simulates it. None when
    its dataset was deleted (the design section says so) or its status cannot be read."""
    try:
        status = pilot_status(warehouse, design)
    except DatasetNotFoundError:
        st.caption(_("Nothing to run: the pilot's dataset was deleted."))
        return None
    except MitoshiError as error:
        show_error(error)
        return None
    done = st.session_state.pop(DONE_KEY.format(design.design_id), None)
    if done:
        st.success(md(done), icon=":material/check_circle:")
    cols = st.columns(3)
    cols[0].metric(_("Pilot days in the data"), _("{present} of {planned}").format(present=status.days_present,
                                                                                   planned=status.days_planned),
                   help=_("{start} to {end}").format(start=fmt.date(design.start), end=fmt.date(design.end)))
    cols[1].metric(_("The data ends"), fmt.date(status.data_end))
    cols[2].metric(_("Published batch"), _("none") if status.batch_version is None else
                   _("v{version} · to {last}").format(version=status.batch_version, last=fmt.date(status.batch_last)),
                   help=_("The Hand-off page's newest batch for this dataset: the treated stores order from it."))
    st.markdown(md(status.sentence()))
    if not status.generated:
        st.info(_("'{name}' is your own data: while the pilot runs, the treated stores order from the published batch "
                  "and the others as today. Its days arrive by appending the stores' sales, orders and stockouts on "
                  "Import & manage; this page counts them and reads the pilot out on the days present.").format(
            name=md(status.dataset_name)), icon=":material/upload_file:")
        st.page_link("pages/import.py", label=_("Append the pilot's days on Import & manage"),
                     icon=":material/upload_file:")
        if status.days_remaining and status.batch_blocker():
            st.caption(f":material/info: {md(status.batch_blocker())}")
        return status
    if status.complete:  # the sentence above says so; the readout follows
        return status
    data_problem = status.data_blocker()
    if data_problem:
        st.warning(md(data_problem), icon=":material/event_busy:")
        st.page_link("pages/import.py", label=_("Extend the demo chain on Import & manage"),
                     icon=":material/upload_file:")
        return status
    batch_problem = status.batch_blocker()
    if batch_problem:
        st.warning(md(batch_problem), icon=":material/publish:")
        st.page_link("pages/handoff.py", icon=":material/publish:",
                     label=_("Publish on Hand-off to production: horizon {n} days or more, with order "
                             "quantities").format(n=status.horizon_needed))
        return status
    if status.batch_warning():
        st.warning(md(status.batch_warning()), icon=":material/inventory:")
        st.page_link("pages/handoff.py", icon=":material/publish:",
                     label=_("Publish again on Hand-off to production, with order quantities"))
    # What the treated stores order, as the batch is: its order quantities, or its bare forecasts when it has none
    # (the warning above says so; the caption must not promise quantities the batch does not hold).
    st.caption((_("The demo chain simulates the pilot's days from the same demand as its history: {stores} order the "
                  "bare forecasts of the published batch v{version}, every other store keeps today's practice, and "
                  "the days are appended to the data as a week of real sales would be.") if status.batch_warning() else
                _("The demo chain simulates the pilot's days from the same demand as its history: {stores} order up "
                  "to the published batch v{version}'s order quantities, every other store keeps today's practice, "
                  "and the days are appended to the data as a week of real sales would be.")).format(
        stores=", ".join(design.treated), version=status.batch_version))
    left, _right = st.columns([1, 2])
    days = left.number_input(_("Days to simulate"), min_value=1, max_value=status.days_remaining,
                             value=status.days_remaining, step=1, key=f"pilot_days_{design.design_id}_"
                             f"{status.days_present}",
                             help=_("All the pilot's remaining days, or fewer to read out a pilot still running."))
    if st.button(_("Simulate the pilot on the demo chain"), type="primary", icon=":material/play_arrow:",
                 key=f"pilot_simulate_{design.design_id}"):
        simulate(warehouse, design, status, int(days))
    return status


def simulate(warehouse: Warehouse, design: PilotDesign, status: PilotStatus, days: int) -> None:
    end = status.next_day + pd.Timedelta(days=days - 1)
    with st.status(ngettext("Simulating {n} day of the pilot…", "Simulating {n} days of the pilot…", days).format(
            n=days), expanded=True) as box:
        st.write(_("Checking that batch v{version} covers {stores} from {first} to {last}…").format(
            version=status.batch_version, stores=", ".join(design.treated), first=fmt.date(status.next_day),
            last=fmt.date(end)))
        st.write(_("Simulating the days twice from the same demand: with the treated stores ordering from the batch, "
                   "and with every store on today's practice (the demo's counterfactual)…"))
        try:
            pilot = simulate_design(warehouse, design, days)
        except MitoshiError as error:
            box.update(label=_("The pilot was not simulated"), state="error")
            show_error(error)
            return
        st.write(_("Appended {rows} rows, {first} to {last}.").format(rows=fmt.count(pilot.appended.n_rows),
                                                                     first=fmt.date(pilot.start),
                                                                     last=fmt.date(pilot.end)))
        box.update(label=_("Pilot simulated"), state="complete", expanded=False)
    truth = st.session_state.setdefault(TRUTH_KEY.format(design.design_id), {})
    truth[(pilot.start.isoformat(), pilot.end.isoformat())] = {m: pilot.true_effect(m) for m in MEASURES}
    # Kept as facts: shown after the rerun, in the language of that run.
    st.session_state[DONE_KEY.format(design.design_id)] = M_(
        "Simulated {days} days ({first} to {last}): {stores} ordered from batch v{version}; {rows} rows appended. On "
        "the demo the truth is known: ordering from the batch changed a treated store's profit by {effect} a day on "
        "these days.", days=pilot.days, first=Fmt("date", pilot.start.isoformat()),
        last=Fmt("date", pilot.end.isoformat()), stores=", ".join(pilot.treated), version=pilot.batch_version,
        rows=Fmt("count", pilot.appended.n_rows), effect=Fmt("yen", pilot.true_effect(PROFIT), {"signed": True}))
    st.rerun()


# ---------------------------------------------------------------------------------
# 3 · Readout
# ---------------------------------------------------------------------------------
# English catalog messages: ``assumptions()`` gives them in the current language.
ASSUMPTIONS = (
    N_("**Parallel trends.** Without the pilot, the treated and the control stores' outcomes would have moved "
       "together. The pre-trend check reads a placebo pilot inside the pre-period: an interval far from zero there "
       "says they did not."),
    N_("**Stores are independent.** What happens in one store does not depend on another, once the days the whole "
       "chain shares (weather, holidays, chain promotions) are removed — they cancel in the difference."),
    N_("**No spill-over.** The pilot changes only the treated stores: no shared stock, delivery or customers moving "
       "between a treated and a control store."),
    N_("**One spread.** The treated and the control stores' changes vary alike; choose treated stores across sizes, "
       "not only the largest."),
    N_("**The interval** is the {method}: each store's days collapse into one change (mean during the pilot less "
       "mean before), so any correlation of a store's days is allowed. It covered the true effect in about 95 % of "
       "simulated pilots with as few as 2 treated stores (Bertrand, Duflo & Mullainathan 2004), where intervals "
       "clustered by store covered only 84–86 %."),
)


def assumptions() -> list[str]:
    """What the readout assumes, in plain words, in the current language."""
    return [_(line).format(method=_(METHOD)) if "{method}" in line else _(line) for line in ASSUMPTIONS]


def readout_section(warehouse: Warehouse, design: PilotDesign, status: PilotStatus | None) -> StoredReadout | None:
    """The button that reads the pilot out, and the stored readout."""
    try:
        stored = stored_readout(warehouse, design)
    except MitoshiError as error:
        show_error(error)
        stored = None
    if status is None:  # the dataset was deleted (the design says so) or cannot be read: the stored readout only
        if stored is None:
            st.info(_("No readout of this pilot was stored."), icon=":material/info:")
            return None
        render_readout(stored, design)
        return stored
    present = status.days_present
    if present == 0 and stored is None:
        st.info(_("No day of the pilot is in the data yet: run it (above) and read it out when its days are in."),
                icon=":material/hourglass_empty:")
    elif stored is not None and stored.readout.pilot_days < present:
        st.info(_("The stored readout is of {read} days; {present} are in the data now: read it out again.").format(
            read=stored.readout.pilot_days, present=present), icon=":material/update:")
    exclude = exclude_picker(design)
    label = _("Read out the pilot") if stored is None else _("Read out again")
    if st.button(label, type="primary" if stored is None or stored.readout.pilot_days < present else "secondary",
                 icon=":material/analytics:", disabled=present == 0, key=f"pilot_readout_{design.design_id}"):
        refused_key = REFUSED_KEY.format(design.design_id)
        try:
            with st.spinner(_("Pricing every store's days and fitting the difference-in-differences…")):
                read_out_design(warehouse, design, exclude=exclude)
            st.session_state.pop(refused_key, None)
            st.rerun()
        except ReadoutInputError as error:
            named = [s for s in (*design.treated, *design.control) if s in error.stores]
            if named:
                # The readout refuses because stores miss days: offer to leave them out, preselected. The refusal
                # is kept as facts, so it reads in the language of the next run.
                st.session_state[refused_key] = error.args[0]
                st.session_state[PRESELECT_KEY.format(design.design_id)] = sorted(set(named) | set(exclude))
                st.rerun()
            show_error(error)
        except MitoshiError as error:
            show_error(error)
    if stored is None:
        return None
    render_readout(stored, design)
    return stored


def exclude_picker(design: PilotDesign) -> tuple[str, ...]:
    """The stores to leave out of the readout (``core.pilot.run.read_out_design``'s
    ``exclude``): shown with the refusal when the last readout refused because stores miss
    days (those stores preselected), else in an expander."""
    refused = st.session_state.get(REFUSED_KEY.format(design.design_id))
    if refused:
        st.error(md(refused), icon=":material/error:")
        box = st.container()
    else:
        box = st.expander(_("Leave stores out of the readout"), icon=":material/remove_circle:")
    roles = {s: _("treated") for s in design.treated} | {s: _("control") for s in design.control}
    preselect = st.session_state.pop(PRESELECT_KEY.format(design.design_id), None)
    if preselect is not None:
        st.session_state[EXCLUDE_KEY.format(design.design_id)] = preselect
    with box:
        chosen = st.multiselect(
            _("Leave stores out of the readout"), list(roles),
            format_func=lambda s: _("{store} ({role})").format(store=s, role=roles[s]),
            key=EXCLUDE_KEY.format(design.design_id),
            help=_("A store that misses days (a closure, a late file) blocks the readout: leave it out and the pilot "
                   "is read on the others. Only the stores named are left out, not their pair partners; the interval "
                   "is wider with fewer stores, and the readout says who was left out."),
                       placeholder=_("Choose options"))
    return tuple(chosen)


def render_readout(stored: StoredReadout, design: PilotDesign) -> None:
    readout = stored.readout
    values = {"day": fmt.date(stored.created_at), "time": f"{stored.created_at:%H:%M}", "days": readout.pilot_days,
              "start": fmt.date(readout.during[0]), "end": fmt.date(readout.during[1]),
              "pre_start": fmt.date(readout.pre[0]), "pre_end": fmt.date(readout.pre[1]),
              "treated": ", ".join(readout.treated), "control": ", ".join(readout.control)}
    if stored.evidence.batch_version:
        st.caption(_("Readout of {day} {time}: {days} pilot days ({start} to {end}) against {pre_start} to {pre_end}; "
                     "treated {treated}, control {control}; the treated stores ordered from batch v{version}.").format(
            version=stored.evidence.batch_version, **values))
    else:
        st.caption(_("Readout of {day} {time}: {days} pilot days ({start} to {end}) against {pre_start} to {pre_end}; "
                     "treated {treated}, control {control}.").format(**values))
    for note in readout.notes:
        st.warning(md(said(note)), icon=":material/info:")
    profit = readout.estimate(PROFIT)
    if profit is not None:
        # The promise of what was piloted (the batch's model and ordering), stored with the readout.
        st.markdown(f"#### {md(promise_sentence(profit, stored.evidence.offline_yearly_savings))}")
    table(readout_table(readout))
    st.caption(_("Effects are the treated stores' change less the control stores' change; yearly for the chain = per "
                 "store-day × 365 × {n} stores. Profit up is good; waste, lost sales and stockouts down are "
                 "good.").format(n=readout.chain_stores))
    for measure in MEASURES[1:]:
        estimate = readout.estimate(measure)
        if estimate is not None:
            st.markdown("- " + md(effect_sentence(estimate)))
    truth = _truth(stored, design)
    if truth:
        st.info(md(truth), icon=":material/visibility:")
    left, right = st.columns(2)
    left.plotly_chart(charts.promise_chart(readout, stored.evidence.offline_yearly_savings,
                                           stored.evidence.offline_model),
                      width="stretch", key=f"pilot_promise_{stored.readout_id}")
    if not readout.per_store.empty:
        right.plotly_chart(charts.store_effects_chart(readout, PROFIT), width="stretch",
                           key=f"pilot_stores_{stored.readout_id}")
    st.markdown(_("**Per treated store** (its change less the control stores' mean change)"))
    table(per_store_frame(readout))
    st.markdown(_("**Before the pilot** — the groups' means per store-day in the pre-period, and the pre-trend check"))
    table(pre_frame(readout))
    (st.success if readout.pre_trend_ok else st.warning)(
        _("Pre-trend check: in a placebo pilot inside the pre-period the treated stores' profit moved with the "
          "controls' (its interval contains zero).") if readout.pre_trend_ok else
        _("Pre-trend check: before the pilot the treated stores' profit already drifted apart from the controls' — "
          "the estimate may mistake that drift for the forecast's effect."), icon=":material/trending_flat:")
    with st.expander(_("What the readout assumes, in plain words"), icon=":material/rule:"):
        for line in assumptions():
            st.markdown("- " + line)


def _truth(stored: StoredReadout, design: PilotDesign) -> str | None:
    """On the demo chain, the true effect of the simulated days (kept from the simulations of
    this session) beside the estimate, when they are the days read."""
    simulated = st.session_state.get(TRUTH_KEY.format(design.design_id), {})
    readout = stored.readout
    pieces = [(pd.Timestamp(a), pd.Timestamp(b), v[PROFIT]) for (a, b), v in simulated.items()]
    pieces = [p for p in pieces if readout.during[0] <= p[0].date() and p[1].date() <= readout.during[1]]
    days = sum((b - a).days + 1 for a, b, _v in pieces)
    if not pieces or days != readout.pilot_days:
        return None
    truth = sum(((b - a).days + 1) * v for a, b, v in pieces) / days
    estimate = readout.overall.set_index("measure").loc[PROFIT]
    inside = estimate["low"] <= truth <= estimate["high"]
    values = {"truth": fmt.yen(truth, signed=True), "estimate": fmt.yen(estimate["per_store_day"], signed=True),
              "level": fmt.pct(readout.level, 0), "low": fmt.yen(estimate["low"]), "high": fmt.yen(estimate["high"])}
    if inside:
        return _("On the demo chain the truth is known: ordering from the batch changed a treated store's profit by "
                 "{truth} a day on these days; the pilot estimated {estimate} ({level} interval {low} to {high}), "
                 "which covers it.").format(**values)
    return _("On the demo chain the truth is known: ordering from the batch changed a treated store's profit by "
             "{truth} a day on these days; the pilot estimated {estimate} ({level} interval {low} to {high}), which "
             "misses it — as about one pilot in twenty will.").format(**values)


def per_store_frame(readout: PilotReadout) -> pd.DataFrame:
    """One row per treated store: its own effect a day on each measure (its change less the
    control stores' mean change), with the interval and p-value of its profit."""
    level = fmt.pct(readout.level, 0)
    rows = {}
    for r in readout.per_store.itertuples(index=False):
        row = rows.setdefault(r.store, {_("Store"): r.store})
        if r.measure == "stockout_days":
            row[_("Stockout item-days a day")] = fmt.number(r.per_store_day, 2, signed=True)
            continue
        row[_("{measure} a day").format(measure=measure_label(r.measure))] = fmt.yen(r.per_store_day, signed=True)
        if r.measure == PROFIT:
            row[_("Profit {level} interval").format(level=level)] = _("{low} to {high}").format(
                low=fmt.yen(r.low, signed=True), high=fmt.yen(r.high, signed=True))
            row[_("Profit p-value")] = fmt.p_value(r.p_value)
    return pd.DataFrame(list(rows.values()))


def pre_frame(readout: PilotReadout) -> pd.DataFrame:
    trend = readout.pre_trend.set_index("measure")
    rows = []
    for r in readout.balance.itertuples(index=False):
        days = r.measure == "stockout_days"
        value = (lambda v, s=False: str(item_days(v, 2, signed=s))) if days else \
            (lambda v, s=False: fmt.yen(v, signed=s))
        placebo = trend.loc[r.measure] if r.measure in trend.index else None
        rows.append({_("Measure"): measure_label(r.measure),
                     _("Treated a store-day"): value(r.treated_mean), _("Control a store-day"): value(r.control_mean),
                     _("Difference"): value(r.difference, True),
                     _("Placebo pilot (pre-trend)"): "" if placebo is None else
                     _("{estimate} ({low} to {high})").format(estimate=value(placebo["per_store_day"], True),
                                                              low=value(placebo["low"], True),
                                                              high=value(placebo["high"], True)),
                     _("Pre-trend p-value"): "" if placebo is None else fmt.p_value(placebo["p_value"])})
    return pd.DataFrame(rows)
