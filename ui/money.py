"""Money impact in the browser: choosing a run and how stores would order, computing
the impact with progress, and showing it in yen."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from core import fmt, periods
from core.backtest import store as runs
from core.errors import MitoshiError
from core.i18n import M_, N_, Msg, _, render
from core.money import charts as money_charts
from core.money import store as settings
from core.money.impact import (
    ERRORS,
    NORMAL,
    PRICE_NAMES,
    QUANTILE,
    SETTINGS_SECTION,
    SHELF,
    Economics,
    ErrorCosts,
    ImpactConfig,
    ImpactResult,
    level_text,
    ordering_words,
    semicolons,
    unit_yen,
)
from core.money.run_impact import run_impact
from core.text import md
from ui.backtest import run_revision
from ui.state import change_metric, current_project, get_warehouse, show_error, table

# Options of the widgets are these English constants (the session keeps them whatever the language);
# what a person reads is their translation (format_func).
OPTIMAL_CHOICE = N_("Profit-optimal per item (recommended)")
FIXED_CHOICE = N_("One service level for every item")
RULE_LABEL = N_("Order up to")
RULE_CHOICES = {NORMAL: N_("forecast + safety stock (normal)"),
                QUANTILE: N_("the model's quantile (from its own past errors)")}
RULE_HELP = N_("How much to order for a service level. **Forecast + safety stock**: the safety stock is z × the "
               "model's typical error (RMSE), which assumes errors are as often too high as too low, in a bell "
               "curve — often wrong for slow movers (many zero days, now and then a few) and perishables. **The "
               "model's quantile**: the order covers demand on that share of days as the model's own past misses "
               "on this item show it (95 % service: the level its forecast plus error exceeded on only 5 % of past "
               "days, in the backtest's other folds), no bell curve assumed. The page shows, per model, which rule "
               "earns more.")


def rule_choice(rule: str) -> str:
    """An ordering rule as the radio shows it, in the current language."""
    return _(RULE_CHOICES[rule])


def run_picker(key: str, label: str | None = None) -> runs.RunInfo | None:
    """A select box over the stored runs, newest first, remembered across pages (``label``:
    "Backtest run" in the reader's language by default)."""
    stored = runs.list_runs(get_warehouse())
    if not stored:
        st.info(_("No backtest is stored yet: run the ladder on the **Backtest** page first."), icon=":material/info:")
        st.page_link("pages/backtest.py", label=_("Go to Backtest"), icon=":material/science:")
        return None
    by_id = {r.run_id: r for r in stored}
    remembered = st.session_state.get("money_run")
    ids = list(by_id)
    # worded now, in the run's language (AppTest calls format_func outside the run)
    labels = {i: _("{run} · {dataset} · {n:,} series · {created}").format(
        run=r.name, dataset=r.dataset_name, n=r.n_series,
        created=f"{fmt.date(r.created_at)} {r.created_at:%H:%M}") for i, r in by_id.items()}
    chosen = st.selectbox(label or _("Backtest run"), ids, index=ids.index(remembered) if remembered in by_id else 0,
                          key=key, format_func=lambda i: labels.get(i, i))
    st.session_state["money_run"] = chosen
    return by_id[chosen]


SHELF_CHOICE = N_("Shelf simulation: units of items with prices, costs and shelf lives")
ERRORS_CHOICE = N_("Cost of forecast errors: yen per unit over- and under-forecast")
UNIT_VALUE_LABEL = N_("What one unit of the target is worth (¥)")
UNDER_LABEL = N_("Cost of a unit under-forecast (% of its value)")
OVER_LABEL = N_("Cost of a unit over-forecast (% of its value)")


def suggested_money_model(run: runs.RunInfo | None) -> str:
    """The shelf simulation where the run's dataset prices its items (a price column, or
    an item master with costs); the cost of forecast errors otherwise (turnover, units
    without prices), until the user says otherwise."""
    if run is None or run.dataset_id is None:
        return SHELF
    warehouse = get_warehouse()
    try:
        dataset = warehouse.get_dataset(run.dataset_id)
    except MitoshiError:
        return SHELF
    columns = {c.lower() for c in dataset.spec.value_columns()}
    items = warehouse.side_table(dataset, "items")
    priced = bool(columns & set(PRICE_NAMES)) or (items is not None and "unit_cost" in items.columns)
    return SHELF if priced else ERRORS


def _stored(key: str, run: runs.RunInfo | None) -> tuple[str | None, str | None, ImpactConfig]:
    """The current project's id, the run's dataset id and the settings stored for that
    project and dataset (the dataset's defaults where none were saved): settings typed
    for one dataset (a turnover's unit value) never carry over to another."""
    warehouse = get_warehouse()
    project = current_project(warehouse)
    pid = project.project_id if project is not None else None
    if run is None and st.session_state.get("money_run"):  # the run chosen in run_picker (Report page)
        run = next((r for r in runs.list_runs(warehouse) if r.run_id == st.session_state["money_run"]), None)
    dataset_id = run.dataset_id if run is not None else None
    stored = settings.load_impact_settings(warehouse, pid, dataset_id)
    if stored is None:
        stored = ImpactConfig(money_model=suggested_money_model(run))
    if run is not None:
        if project is not None:
            text = _("Money settings of the project **{project}** for the dataset **{dataset}**: the Money, Report "
                     "and Hand-off pages share them for this dataset; another dataset has its own.").format(
                project=md(project.name), dataset=md(run.dataset_name))
        else:
            text = _("Money settings of this session (no project chosen) for the dataset **{dataset}**: the Money, "
                     "Report and Hand-off pages share them for this dataset; another dataset has its own.").format(
                dataset=md(run.dataset_name))
        st.caption(f":material/folder_open: {text}")
    return pid, dataset_id, stored


def _remember(pid: str | None, dataset_id: str | None, stored: ImpactConfig, config: ImpactConfig) -> None:
    if pid is not None and config != stored:
        settings.save_impact_settings(get_warehouse(), pid, config, dataset_id)


def _records_stockouts() -> bool:
    """Whether the dataset of the run chosen on the page records stockout days."""
    run_id = st.session_state.get("money_run")
    run = next((r for r in runs.list_runs(get_warehouse()) if r.run_id == run_id), None) if run_id else None
    if run is None or run.dataset_id is None:
        return True
    try:
        return bool(get_warehouse().get_dataset(run.dataset_id).spec.stockout)
    except MitoshiError:
        return True


def _economics_inputs(key: str, stored: ImpactConfig) -> tuple[Economics, bool]:
    """The section of prices, costs, shelf life, holding and censoring (raises
    MitoshiError on values that do not fit together)."""
    e = stored.economics
    with st.expander(_(SETTINGS_SECTION), icon=":material/payments:"):
        st.caption(_("Taken from the dataset (a price column, an item master with unit_cost and shelf_life_days) "
                     "where it has them. Averages here are used only for what it lacks. Saved with the project: "
                     "the Money, Report and Hand-off pages all use them."))
        c = st.columns(4)
        price = c[0].number_input(_("Average unit price (¥)"), min_value=0.0, value=e.unit_price, step=10.0,
                                  key=f"{key}_price")
        cost = c[1].number_input(_("Average unit cost (¥)"), min_value=0.0, value=e.unit_cost, step=10.0,
                                 key=f"{key}_cost")
        shelf = c[2].number_input(_("Average shelf life (days)"), min_value=1, value=e.shelf_life_days, step=1,
                                  key=f"{key}_shelf")
        holding = c[3].number_input(_("Yearly holding cost (% of stock value)"), min_value=0.0, max_value=200.0,
                                    value=float(e.holding_rate * 100), step=5.0, key=f"{key}_holding")
        recorded = _records_stockouts()
        correct = st.checkbox(
            _("Estimate demand on stockout days (sales understate it there)"),
            value=stored.correct_censoring and recorded, key=f"{key}_correct", disabled=not recorded,
            help=None if recorded else _("This dataset has no stockout column, so there are no stockout days to "
                                         "estimate demand on: map a stockout flag when importing to use it."))
        correct = correct if recorded else stored.correct_censoring
    economics = Economics(unit_price=price or None, unit_cost=cost, shelf_life_days=int(shelf) if shelf else None,
                          holding_rate=holding / 100)
    return economics, correct


def impact_settings(key: str, run: runs.RunInfo | None = None) -> ImpactConfig | None:
    """How money is counted and how the simulated stores order, pre-filled from the
    current project's saved settings and saved back to it when changed (so the Money,
    Report and Hand-off pages share them). ``run`` suggests the model of money when the
    project has none saved. Returns None (with the reason shown) when the settings
    cannot be used."""
    pid, dataset_id, stored = _stored(key, run)
    # Widgets are keyed by the dataset too: a value typed for one dataset stays in the session under its key,
    # so switching the run to another dataset shows that dataset's own settings instead of carrying it over.
    key = f"{key}_{dataset_id}" if dataset_id else key
    models = {SHELF: _(SHELF_CHOICE), ERRORS: _(ERRORS_CHOICE)}  # worded in the run (AppTest formats outside it)
    money_model = st.selectbox(
        _("How money is counted"), list(models), index=list(models).index(stored.money_model),
        format_func=lambda m: models.get(m, m), key=f"{key}_money_model",
        help=_("The shelf simulation needs units of items with prices, costs and shelf lives (from the data, or the "
               "averages below). For turnover in currency, or units without prices, count each unit forecast too "
               "high or too low at a cost you give."))
    try:
        if money_model == ERRORS:
            costs = stored.error_costs
            c = st.columns(3)
            value = c[0].number_input(
                _(UNIT_VALUE_LABEL), min_value=0.0, value=float(costs.unit_value), step=1.0, format="%.2f",
                key=f"{key}_unit_value",
                help=_("¥1 for a target in yen of turnover (the default: a yen of turnover). Turnover in thousands "
                       "or millions of a currency: the exchange rate times a thousand or a million (AUD millions at "
                       "¥100 a dollar: 100,000,000). Units of items: an item's average price."))
            under = c[1].number_input(
                _(UNDER_LABEL), min_value=0.0, max_value=100.0, value=float(costs.under_share * 100), step=5.0,
                format="%.0f", key=f"{key}_under",
                help=_("A unit of demand the forecast missed loses its gross margin: about 30 % of its value in "
                       "retail."))
            over = c[2].number_input(
                _(OVER_LABEL), min_value=0.0, max_value=100.0, value=float(costs.over_share * 100), step=5.0,
                format="%.0f", key=f"{key}_over",
                help=_("A unit bought for demand that never came costs its holding, markdown and waste: about 10 % "
                       "of its value for goods that keep, more for perishables."))
            config = replace(stored, money_model=ERRORS,
                             error_costs=ErrorCosts(unit_value=value, under_share=under / 100, over_share=over / 100))
            st.caption(_("A unit under-forecast costs {under}, a unit over-forecast {over}.").format(
                under=unit_yen(config.error_costs.under), over=unit_yen(config.error_costs.over)))
        else:
            a, b = st.columns([2, 1])
            modes = {OPTIMAL_CHOICE: _(OPTIMAL_CHOICE), FIXED_CHOICE: _(FIXED_CHOICE)}  # worded in the run
            mode = a.radio(
                _("How the stores would order from a forecast"), list(modes), key=f"{key}_mode",
                index=0 if stored.service_level is None else 1, horizontal=True,
                format_func=lambda m: modes.get(m, m),
                help=_("Order = forecast + safety stock, the safety stock from the model's own backtest errors. "
                       "Profit-optimal: each item at the service level that earned it the most in the simulation "
                       "of the run's other folds — low for one-day bento, high for drinks that keep."))
            level = None
            if mode == FIXED_CHOICE:
                levels = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995]
                saved = stored.service_level if stored.service_level in levels else 0.95
                level = b.select_slider(_("Service level"), levels, value=saved, format_func=level_text,
                                        key=f"{key}_level",
                                        help=_("The share of periods whose demand the order covers."))
            rules = {r: rule_choice(r) for r in RULE_CHOICES}  # worded in the run
            rule = st.radio(_(RULE_LABEL), list(RULE_CHOICES), index=list(RULE_CHOICES).index(stored.ordering_rule),
                            format_func=lambda r: rules.get(r, r), horizontal=True, key=f"{key}_rule",
                            help=_(RULE_HELP))
            economics, correct = _economics_inputs(key, stored)
            config = replace(stored, money_model=SHELF, service_level=level, economics=economics,
                             correct_censoring=correct, ordering_rule=rule)
    except MitoshiError as error:
        show_error(error)
        return None
    _remember(pid, dataset_id, stored, config)
    return config


def handoff_economics(key: str, run: runs.RunInfo | None = None) -> Economics | None:
    """The project's prices, costs and shelf life for ``run``'s dataset, for ordering
    from now on (the Hand-off page), in the same section as on the Money page, saved
    back to the project and dataset."""
    pid, dataset_id, stored = _stored(key, run)
    # Widgets are keyed by the dataset too: a value typed for one dataset stays in the session under its key,
    # so switching the run to another dataset shows that dataset's own settings instead of carrying it over.
    key = f"{key}_{dataset_id}" if dataset_id else key
    try:
        economics, correct = _economics_inputs(key, stored)
    except MitoshiError as error:
        show_error(error)
        return None
    _remember(pid, dataset_id, stored, replace(stored, economics=economics, correct_censoring=correct))
    return economics


@st.cache_data(show_spinner=False, max_entries=16)
def cached_impact(run_id: str, config: ImpactConfig, revision: str) -> ImpactResult:
    """A run's money impact, computed once per run, revision of its models
    (``ui.backtest.run_revision``) and settings, for every page that needs it. Its words
    are facts (``core.i18n.Msg``: notes, labels, sources, the summary's ``label`` and
    ``ordering``) rendered where shown, so one cached result serves either language."""
    return run_impact(get_warehouse(), run_id, config).impact


def compute_impact(run: runs.RunInfo, config: ImpactConfig) -> ImpactResult | None:
    """The run's money impact, with progress the first time; None (error shown) when it
    cannot be computed. Under the cost of forecast errors, the data's yearly total at
    the unit's value is said below the settings, with a warning when a year of the
    data is worth implausibly little or much (``ImpactResult.implausible``)."""
    with st.status(_("Turning forecasts into orders, stockouts and waste…") if config.money_model == SHELF else
                   _("Costing each model's forecast errors…"), expanded=False) as status:
        try:
            result = cached_impact(run.run_id, config, run_revision(run.run_id))
        except MitoshiError as error:
            failure = error
            # The status ends here, saying what is missing; the message below says how to give it.
            status.update(label=_("No money impact yet: {error}").format(error=md(str(error))), state="error")
            result = None
        else:
            status.update(label=_("Money impact ready"), state="complete")
    if result is None:
        show_error(failure)
        return None
    if result.money_model == ERRORS:  # the scale of the money, beside the unit's value it follows
        st.caption(":material/scale: " + _("{total} — if your business is bigger, set what one unit of the target "
                                           "is worth.").format(total=result.yearly_total_sentence))
        if result.implausible:
            st.warning(md(result.implausible), icon=":material/warning:")
    return result


def _people(summary):
    """The summary with each policy labelled by its model's name, and how it orders in the
    current language."""
    return summary.assign(label=summary["policy"].map(fmt.policy_name), ordering=summary["ordering"].map(render))


def ordering_rules_table(impact: ImpactResult) -> pd.DataFrame:
    """Per model, the yearly profit ordering up to forecast + safety stock and up to its
    own quantile, the difference and the better rule, as text for people (¥ with
    thousands separators; 万円 in Japanese), headers in the current language."""
    rules = impact.ordering_rules
    better = {QUANTILE: _("the quantile"), NORMAL: _("forecast + safety stock"), "same": _("the same")}
    return pd.DataFrame({
        _("model"): rules["policy"].map(fmt.model_name),
        _("forecast + safety stock (normal)"): rules["normal_yearly_profit"].map(fmt.yen),
        _("the model's quantile"): rules["quantile_yearly_profit"].map(fmt.yen),
        _("quantile − normal"): rules["quantile_gain"].map(fmt.yen_change),
        _("earns more"): rules["better"].map(better).where(
            rules["quantile_yearly_profit"].notna(), _("no quantile at this level (too few errors)")),
    })


def render_ordering_rules(impact: ImpactResult) -> None:
    """Which ordering rule earns more, per model, at the chosen service level."""
    rules = impact.ordering_rules
    chosen = rule_choice(impact.config.ordering_rule)
    st.markdown(_("**Forecast + safety stock, or the model's own quantile?** Yearly profit of each model ordering at "
                  "{ordering} under each rule (the figures above order up to {chosen}). The quantile rule earns more "
                  "for **{wins} of {n}** models.").format(
        ordering=md(ordering_words(impact.config.service_level)), chosen=md(chosen), wins=impact.quantile_wins,
        n=len(rules)))
    st.table(ordering_rules_table(impact).set_index(_("model")))


# Column labels of the table of every policy (the summary's columns; catalog msgids).
POLICY_COLUMNS = {
    "yearly_savings": N_("yearly savings"), "yearly_profit": N_("yearly profit"),
    "yearly_waste_cost": N_("yearly waste cost"), "yearly_lost_margin": N_("yearly lost margin"),
    "fill_rate": N_("fill rate"), "waste_rate": N_("waste rate"), "ordered": N_("ordered"), "sold": N_("sold"),
    "lost": N_("lost"), "waste": N_("waste"),
}
# The same columns under the cost of forecast errors, where nothing is ordered, sold or thrown away.
ERROR_COLUMNS = {
    "yearly_waste_cost": N_("yearly cost of over-forecasts"), "yearly_lost_margin": N_("yearly cost of under-forecasts"),
    "fill_rate": N_("demand covered"), "waste": N_("units over"), "lost": N_("units under"), "ordered": N_("forecast"),
    "sold": N_("covered"),
}


def _headline(impact: ImpactResult, best: pd.Series, name: str) -> str:
    """The sentence under the metrics: what the best model saves or loses a year, against what."""
    errors = impact.money_model == ERRORS
    if impact.chain_scale > 1.0001:
        detail = _("{n:,} series, {span} of backtest, annualised, scaled {scale}× to the whole dataset").format(
            n=impact.n_series, span=impact.backtest_span, scale=f"{impact.chain_scale:.2f}")
    else:
        detail = _("{n:,} series, {span} of backtest, annualised").format(n=impact.n_series,
                                                                           span=impact.backtest_span)
    saves = best["yearly_savings"] > 0
    if errors:
        template = (_("Forecasting with **{model}** **saves {amount} a year** against {baseline} ({detail}).") if saves
                    else _("Forecasting with **{model}** **loses {amount} a year** against {baseline} ({detail})."))
    else:
        template = (_("Ordering from **{model}** at {ordering} **saves {amount} a year** against {baseline} "
                      "({detail}).") if saves else
                    _("Ordering from **{model}** at {ordering} **loses {amount} a year** against {baseline} "
                      "({detail})."))
    return template.format(model=md(name), ordering=md(impact.config.level_label),
                           amount=fmt.yen(abs(best["yearly_savings"])), baseline=md(impact.baseline_label),
                           detail=detail)


def render_impact(impact: ImpactResult, key: str) -> None:
    summary = _people(impact.summary)
    models = summary[summary["policy"] != impact.baseline]
    best = models.sort_values("yearly_savings", ascending=False).iloc[0] if not models.empty else None
    base = impact.row(impact.baseline)
    errors = impact.money_model == ERRORS
    if not errors:  # the cost-of-error model says so in its notes below
        st.caption(_("Money counted as {model}.").format(model=md(impact.money_model_label)))
    if best is not None:
        name = fmt.model_name(best["policy"])
        cols = st.columns(4)
        cols[0].metric(_("Yearly savings · {model}").format(model=name), fmt.yen(best["yearly_savings"]),
                       help=_("Against {baseline}, for the whole dataset, ordering at {ordering}.").format(
                           baseline=render(impact.baseline_label), ordering=render(impact.config.level_label)))
        waste_label, lost_label = ((_("Over-forecast cost a year"), _("Under-forecast cost a year")) if errors else
                                   (_("Waste a year"), _("Lost sales margin a year")))
        for where, label, column in ((cols[1], waste_label, "yearly_waste_cost"),
                                     (cols[2], lost_label, "yearly_lost_margin")):
            change = best[column] - base[column]
            change_metric(where, label, fmt.yen(best[column]), change, fmt.yen_change(change), better="down")
        if errors:
            change = best["fill_rate"] - base["fill_rate"]
            change_metric(cols[3], _("Demand covered by the forecast"), fmt.pct(best["fill_rate"]), change,
                          fmt.pp_between(best["fill_rate"], base["fill_rate"]), better="up")
        else:
            change = best["stockout_rate"] - base["stockout_rate"]
            change_metric(cols[3], periods.out_of_stock(impact.freq), fmt.pct(best["stockout_rate"]), change,
                          fmt.pp_between(best["stockout_rate"], base["stockout_rate"]), better="down")
        st.markdown(_headline(impact, best, name))
        tradeoff = impact.stockout_tradeoff(best["policy"])
        if tradeoff:
            st.warning(md(tradeoff), icon=":material/remove_shopping_cart:")
    for note in impact.notes:
        if note != impact.implausible:  # already a warning under the settings
            st.info(md(render(note)), icon=":material/info:")
    # The cost-of-error model has no waste/stockout split to show beside the savings: they take the width.
    left, right = st.columns(2) if not errors else (st.container(), None)
    left.plotly_chart(money_charts.savings_bars(summary, impact.baseline_label), width="stretch",
                      key=f"{key}_savings")
    if right is not None:
        right.plotly_chart(money_charts.loss_split(summary), width="stretch", key=f"{key}_split")
    if not impact.sensitivity.empty:
        optimal = summary if impact.config.service_level is None else None
        st.plotly_chart(money_charts.sensitivity_lines(impact.sensitivity, optimal, impact.freq), width="stretch",
                        key=f"{key}_sensitivity")
    if not impact.ordering_rules.empty:
        render_ordering_rules(impact)
    if not impact.by_segment.empty:
        a, b = st.columns(2)
        segment = a.selectbox(_("Split by"), list(dict.fromkeys(impact.by_segment["segment"])), key=f"{key}_segment")
        # the headline's model first: the one that saves the most
        ranked = summary.sort_values("yearly_savings", ascending=False, kind="stable")["policy"]
        choices = [p for p in ranked if p != impact.baseline]
        model = b.selectbox(_("Model"), choices, key=f"{key}_segment_model", format_func=fmt.model_name) \
            if choices else None
        if model:
            st.plotly_chart(money_charts.segment_savings(impact.by_segment, segment, model, impact.baseline_label),
                            width="stretch", key=f"{key}_by_segment")
    st.markdown(_("**Every policy** (units: the run's series over the backtest's {span}; yearly money: the whole "
                  "dataset, annualised)").format(span=impact.backtest_span))
    if errors:
        names = {**POLICY_COLUMNS, **ERROR_COLUMNS}
        rates, units = ["fill_rate"], ["ordered", "sold", "lost", "waste"]
    else:
        names = {**POLICY_COLUMNS}
        rates, units = ["stockout_rate", "fill_rate", "waste_rate"], ["ordered", "sold", "lost", "waste"]

    def header(column: str) -> str:
        if column == "stockout_rate":
            return periods.out_of_stock(impact.freq).lower()
        return _(names[column])

    money = ["yearly_savings", "yearly_profit", "yearly_waste_cost", "yearly_lost_margin"]
    # A table for people: its headers in the reader's language, in the data itself (what a copy carries).
    shown = summary[["label", *money, *rates, *units]].round({u: 0 for u in units})
    shown = shown.rename(columns={"label": _("policy"), **{c: header(c) for c in (*money, *rates, *units)}})
    table(shown, column_config={
        **{header(c): st.column_config.NumberColumn(format="percent") for c in rates},
        **{header(c): st.column_config.NumberColumn(format="yen") for c in money},
        **{header(c): st.column_config.NumberColumn(format="localized") for c in units},
    })
    sources = semicolons([M_("{what} from {source}", what=Msg(what), source=source)
                          for what, source in impact.sources.items()]) if impact.sources else ""
    if errors:
        st.caption(_("Sources: {sources}. Cost = units forecast too high × the over-forecast cost + units too low × "
                     "the under-forecast cost; profit is minus that cost, savings the baseline's cost less the "
                     "model's.").format(sources=md(render(sources))))
        return
    start = (_("Today's practice is replayed from its recorded orders; every policy starts each fold with the stock "
               "practice really had.") if impact.has_orders else
             _("The data records no orders: every policy starts each fold with an empty shelf."))
    st.caption(_("Sources: {sources}. Profit = units sold × (price − cost) − waste × cost − holding cost. "
                 "{start}").format(sources=md(render(sources)), start=start))
