"""The pilot readout report: what the pilot was (treated and control stores, its days, the
power calculation, the forecasts the treated stores ordered from), how the two groups'
outcomes moved before and during it, the difference-in-differences estimate of each
measure with its interval, and the backtest's promise against what the stores measured.

The snapshot keeps the project's latest pilot design (``PilotDesign.to_dict``) and its
latest readout as stored (``core.pilot.store.latest_readout``: the ``PilotReadout`` and
the ``OnlineEvidence`` the decision reads, notes as facts), plus the groups' outcomes per
week and per period read now from the pilot's dataset (``core.pilot.run.design_outcomes``,
the outcomes the readout itself reads), so the report renders in either language."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd

from core import fmt
from core.columns import DATE
from core.errors import DatasetNotFoundError, MitoshiError
from core.i18n import M_, _, said
from core.money.outcomes import STORE
from core.paper import charts as paper_charts
from core.paper.pdf import figure_room
from core.paper.report import (
    Bullets,
    Figure,
    Heading,
    KeyValues,
    Paragraph,
    Section,
    Table,
    rows_of,
    share_widths,
)
from core.pilot.design import PilotDesign
from core.pilot.evidence import MEASURES, PROFIT, STOCKOUT_DAYS, OnlineEvidence, measure_label
from core.pilot.readout import METHOD, NO_INTERVAL, PilotReadout, effect_sentence, item_days, promise_sentence
from core.pilot.store import EVIDENCE_KEY, latest_design, latest_readout
from core.planning import store as planning
from core.warehouse.store import Warehouse

CHART_HEIGHT = 72.0  # mm
ONLINE_HEIGHT = 46.0  # mm


# ---------------------------------------------------------------------------------
# The snapshot
# ---------------------------------------------------------------------------------
def snapshot(warehouse: Warehouse, project_id: str, options: dict) -> tuple[dict, dict]:
    """(made_from, snapshot) of the project's latest pilot and its latest readout. Raises
    ``MitoshiError`` when no pilot is designed yet, or it has no readout yet."""
    project = planning.get_project(warehouse, project_id)
    design = latest_design(warehouse, project_id)
    if design is None:
        raise MitoshiError(M_("The project '{project}' has no pilot yet: design one and save it on the Pilot page "
                              "(1 · Design) first.", project=project.name))
    stored = latest_readout(warehouse, project_id, design.design_id)
    if stored is None:
        raise MitoshiError(M_("The pilot of the project '{project}' has no readout yet: run it and read it out on the "
                              "Pilot page (3 · Readout) first.", project=project.name))
    readout = PilotReadout.from_dict(stored)
    evidence = OnlineEvidence.from_dict(stored.get(EVIDENCE_KEY) or {})
    made_from: dict = {"project": project.name,
                       "pilot": f"{design.start.isoformat()} – {design.end.isoformat()}  ·  {design.design_id}"}
    try:
        dataset = warehouse.get_dataset(design.dataset_id)
    except DatasetNotFoundError:
        dataset = None
        made_from["dataset"] = design.dataset_name
    else:
        made_from["dataset"] = dataset.name
        made_from["dataset_fingerprint"] = dataset.fingerprint
    batch = _batch(warehouse, design.dataset_id, evidence.batch_version)
    if batch.get("run_id"):
        made_from["runs"] = [{"id": batch["run_id"], "name": batch.get("run_name") or ""}]
    latest = planning.latest_definition(warehouse, project_id)
    if latest is not None:
        made_from["definition_version"] = latest.version
        made_from["definition_saved_at"] = latest.saved_at.isoformat(timespec="seconds")
    outcomes = _outcomes(warehouse, design, readout) if dataset is not None else None
    shot = {"design": design.to_dict(), "readout": {k: v for k, v in stored.items() if k != "created_at"},
            "readout_created_at": stored.get("created_at"), "batch": batch,
            "running_cost": None if latest is None else latest.definition.running_cost_yen_per_year,
            "outcomes": outcomes}
    return made_from, shot


def _batch(warehouse: Warehouse, dataset_id: str, version: int | None) -> dict:
    """The published batch the treated stores ordered from: its version, model, run and
    service level (``{}``: none, or deleted since)."""
    if version is None:
        return {}
    from core.handoff.store import list_batches  # an earlier step: only read

    batches = list_batches(warehouse, dataset_id)
    rows = batches[batches["version"] == version]
    if rows.empty:
        return {"version": int(version)}
    row = rows.iloc[0]
    level = row["service_level"]
    return {"version": int(version), "model": str(row["model"]),
            "run_id": None if pd.isna(row["run_id"]) else str(row["run_id"]),
            "run_name": None if pd.isna(row["run_name"]) else str(row["run_name"]),
            "service_level": None if pd.isna(level) else float(level)}


def _outcomes(warehouse: Warehouse, design: PilotDesign, readout: PilotReadout) -> dict | None:
    """The treated and control stores' mean outcome per store-day, for the stores and days
    the readout read: per period (before, during) for every measure, and per week for
    profit (weeks counted back and forth from the pilot's first day). None when the data
    cannot be priced any more."""
    from core.pilot.run import design_outcomes  # the outcomes the readout reads

    try:
        frame = design_outcomes(warehouse, design)
    except MitoshiError:
        return None
    frame = frame.assign(**{STORE: frame[STORE].astype(str), DATE: pd.to_datetime(frame[DATE]).dt.normalize()})
    treated, control = set(readout.treated), set(readout.control)
    frame = frame[frame[STORE].isin(treated | control)]
    pre = frame[DATE].between(pd.Timestamp(readout.pre[0]), pd.Timestamp(readout.pre[1]))
    during = frame[DATE].between(pd.Timestamp(readout.during[0]), pd.Timestamp(readout.during[1]))
    frame = frame[pre | during].assign(period=lambda f: f[DATE].map(
        lambda d: "during" if d >= pd.Timestamp(readout.during[0]) else "before"))
    frame["group"] = frame[STORE].map(lambda s: "treated" if s in treated else "control")
    measures = [m for m in MEASURES if m in frame.columns and frame[m].notna().any()]
    # The readout's arithmetic: each store's mean in a period, then the group's mean of its stores.
    stores = frame.groupby(["group", "period", STORE])[measures].mean()
    groups = stores.groupby(level=["group", "period"]).mean()
    periods = {m: {f"{g}_{p}": float(groups.loc[(g, p), m]) for g in ("treated", "control")
                   for p in ("before", "during") if (g, p) in groups.index} for m in measures}
    start = pd.Timestamp(readout.during[0])
    frame["week"] = (frame[DATE] - start).dt.days // 7
    weeks = []
    for week, rows in frame.groupby("week"):
        daily = rows.groupby(["group", DATE])[PROFIT].mean().groupby(level="group").mean()
        if {"treated", "control"} <= set(daily.index):
            weeks.append({"start": (start + timedelta(days=7 * int(week))).date().isoformat(),
                          "during": bool(week >= 0), "days": int(rows[DATE].nunique()),
                          "treated": float(daily["treated"]), "control": float(daily["control"])})
    return {"periods": periods, "weeks": weeks}


# ---------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------
def sections(shot: dict, made_from: dict) -> tuple[str, tuple[Section, ...]]:
    """(subtitle, sections) of the report in the current language."""
    design = PilotDesign.from_dict(shot["design"])
    readout = PilotReadout.from_dict(shot["readout"])
    evidence = OnlineEvidence.from_dict(shot["readout"].get(EVIDENCE_KEY) or {})
    profit = readout.estimate(PROFIT)
    read_on = shot.get("readout_created_at") or ""
    subtitle = _("Pilot of {start} to {end} ({days} days read of {planned}), read out on {when}").format(
        start=fmt.date(readout.during[0]), end=fmt.date(readout.during[1]), days=readout.pilot_days,
        planned=design.days, when=fmt.date(read_on[:10]) if read_on else "—")
    out: list[Section] = [Heading(_("What the pilot measured"), keep=30)]
    if profit is not None:
        out.append(Paragraph(promise_sentence(profit, evidence.offline_yearly_savings)))
    out.append(Bullets(tuple(effect_sentence(e) for e in (readout.estimate(m) for m in MEASURES) if e is not None)))
    out.append(Paragraph(_("Effects are the treated stores' change less the control stores' change; yearly for the "
                           "chain = per store-day × 365 × {n} stores. Profit up is good; waste, lost sales and "
                           "stockouts down are good.").format(n=readout.chain_stores), muted=True))
    out += _design_sections(design, readout, evidence, shot.get("batch") or {})
    out += _groups_sections(readout, shot.get("outcomes"))
    out += _estimate_sections(readout)
    out += _promise_sections(readout, evidence, shot.get("running_cost"))
    notes = [said(note) for note in readout.notes]
    out += [Heading(_("Notes on this readout"), keep=20),
            Bullets(tuple(notes), empty=_("None.")),
            Paragraph(_("Method: {method}.").format(method=_(METHOD)), muted=True)]
    return subtitle, tuple(out)


def _stores(stores: Sequence[str]) -> str:
    return ", ".join(stores) or "—"


def _design_sections(design: PilotDesign, readout: PilotReadout, evidence: OnlineEvidence,
                     batch: dict) -> list[Section]:
    left_out = [s for s in (*design.treated, *design.control) if s not in (*readout.treated, *readout.control)]
    if batch.get("model"):
        ordering = said(evidence.offline_ordering) if evidence.offline_ordering else ""
        forecasts = _("batch v{version}: {model}").format(version=batch["version"],
                                                          model=fmt.model_name(batch["model"]))
        if ordering:
            forecasts += _(", ordering at {ordering}").format(ordering=ordering)
        if batch.get("run_name"):
            forecasts += "\n" + _("published from the backtest '{run}'").format(run=batch["run_name"])
    elif batch.get("version"):
        forecasts = _("batch v{version} (deleted since)").format(version=batch["version"])
    else:
        forecasts = _("no published batch is recorded with this readout")
    design_promise = design.offline_yearly_savings
    pairs: list[tuple[str, str]] = [
        (_("Treated"), _stores(design.treated) + "  ·  " + _("order from the model's forecasts")),
        (_("Control"), _stores(design.control) + "  ·  " + _("keep today's practice")),
        (_("Pilot"), _("{start} to {end}").format(start=fmt.date(design.start), end=fmt.date(design.end))
         + "  ·  " + _("{n} weeks").format(n=design.weeks)),
        (_("Compared with"), _("{start} to {end}").format(start=fmt.date(design.pre_start),
                                                         end=fmt.date(design.start - timedelta(days=1)))
         + "  ·  " + _("the {n} days before").format(n=design.pre_days)),
        (_("Power calculation"), design.duration_sentence()),
        (_("Forecasts used"), forecasts),
        (_("Promise at design"), _("{amount} a year ({model})").format(
            amount=fmt.yen_short(design_promise), model=fmt.model_name(design.offline_model))
         if design_promise is not None and design.offline_model else
         fmt.yen_short(design_promise) if design_promise is not None else _("none (no backtest priced)")),
        (_("Scaled to"), _("the chain's {n} stores").format(n=design.chain_stores)),
    ]
    if left_out:
        pairs.append((_("Left out of the readout"), _stores(left_out)))
    yen = design.sales_unit == "yen"

    def sales(value: float) -> str:
        return fmt.yen(value) if yen else _("{n} units").format(n=fmt.number(value))

    rows = tuple((str(b.pair), b.treated_label + (_(" (pinned)") if b.pinned else ""), sales(b.treated_sales),
                  b.control_label, sales(b.control_sales)) for b in design.balance)
    return [
        Heading(_("The design"), keep=40),
        KeyValues(tuple(pairs), key_width=40),
        Paragraph(design.assignment_sentence(), muted=True),
        Heading(_("Treated and control stores, pair by pair (sales a day over the {weeks} weeks before the "
                  "pilot)").format(weeks=design.pre_days // 7), keep=25),
        Table((_("Pair"), _("Treated"), _("Sales a day (T)"), _("Control"), _("Sales a day (C)")), rows,
              share_widths(0.6, 2, 1.6, 2, 1.6), align=("C", "L", "R", "L", "R")),
        Paragraph(_smd_sentence(design), muted=True),
    ]


def _smd_sentence(design: PilotDesign) -> str:
    from core.pilot.design import SMD_GRADES

    names = {"sales": _("sales a day"), "size": _("store size")}
    parts = [_("{name} {smd} ({grade})").format(name=names.get(n, n), smd=fmt.number(v, 2, signed=True),
                                                grade=_(SMD_GRADES[design.smd_grade(n)]))
             for n, v in design.smd.items() if not fmt.missing(v)]
    return _("Balance of the treated against the control group, as standardised mean differences: {parts}.").format(
        parts=_(", ").join(parts)) if parts else ""


def _value(measure: str, value: float, signed: bool = False) -> str:
    if fmt.missing(value):
        return "—"
    if measure == STOCKOUT_DAYS:
        return str(item_days(value, 2, signed=signed))
    return fmt.yen(value, signed=signed)


def _groups_sections(readout: PilotReadout, outcomes: dict | None) -> list[Section]:
    out: list[Section] = [Heading(_("Treated against control, before and during the pilot"),
                                  keep=figure_room(CHART_HEIGHT))]
    if not outcomes:
        return [*out, Paragraph(_("The pilot's dataset was deleted or cannot be priced any more: the stores' outcomes "
                                  "are not drawn; the estimates below are as stored."), muted=True)]
    weeks = outcomes.get("weeks") or []
    if weeks:
        out.append(Figure(outcome_png(weeks, readout), CHART_HEIGHT, _(
            "Profit per store and day, week by week (weeks from the pilot's first day, the pilot's weeks shaded; a "
            "partial week's mean is of its days). Left: the two groups; right: treated less control, whose jump "
            "from before to during is the difference-in-differences estimate.")))
    rows = []
    for measure, v in (outcomes.get("periods") or {}).items():
        # The stored estimate where the readout has it: the same number the estimates' table prints (the groups'
        # means give it too, up to a rounding that could print 8.38 here and 8.37 there).
        stored = readout.estimate(measure)
        did = stored.per_store_day if stored is not None else (
            (v.get("treated_during", 0) - v.get("treated_before", 0))
            - (v.get("control_during", 0) - v.get("control_before", 0)))
        rows.append((measure_label(measure), _value(measure, v.get("treated_before")),
                     _value(measure, v.get("treated_during")), _value(measure, v.get("control_before")),
                     _value(measure, v.get("control_during")), _value(measure, did, signed=True)))
    out += [
        Table((_("Per store-day"), _("Treated before"), _("Treated during"), _("Control before"),
               _("Control during"), _("Difference in differences")), tuple(rows),
              share_widths(1.4, 1.05, 1.05, 1.05, 1.05, 1.4), align=("L", "R", "R", "R", "R", "R")),
        Paragraph(_("Before: {pre_start} to {pre_end}; during: {start} to {end}. Treated {treated}; control "
                    "{control}.").format(pre_start=fmt.date(readout.pre[0]), pre_end=fmt.date(readout.pre[1]),
                                         start=fmt.date(readout.during[0]), end=fmt.date(readout.during[1]),
                                         treated=_stores(readout.treated), control=_stores(readout.control)),
                  muted=True),
    ]
    return out


def _estimate_sections(readout: PilotReadout) -> list[Section]:
    from core.pilot.run import readout_table

    table = readout_table(readout)
    out: list[Section] = [
        Heading(_("Difference-in-differences estimates"), keep=30),
        Table(tuple(table.columns), rows_of(table.to_numpy().tolist()), share_widths(1.5, 1.4, 1.2, 1.9, 0.8),
              align=("L", "R", "R", "R", "R")),
    ]
    if any(m in NO_INTERVAL for m in readout.overall["measure"]):
        out.append(Paragraph(_("Lost-sales margin is an estimate only: demand on a stockout day is not observed, so "
                               "it has no interval and the decision does not read it."), muted=True))
    level = fmt.pct(readout.level, 0)
    stores = readout.per_store[readout.per_store["measure"] == PROFIT] if not readout.per_store.empty else None
    if stores is not None and not stores.empty:
        rows = tuple((str(r.store), fmt.yen(r.per_store_day, signed=True),
                      _("{low} to {high}").format(low=fmt.yen(r.low, signed=True), high=fmt.yen(r.high, signed=True)),
                      fmt.p_value(r.p_value)) for r in stores.itertuples(index=False))
        out += [Heading(_("Per treated store (its change less the control stores' mean change)"), keep=25),
                Table((_("Store"), _("{measure} a day").format(measure=measure_label(PROFIT)),
                       _("Profit {level} interval").format(level=level), _("Profit p-value")), rows,
                      share_widths(1.2, 1.2, 2.2, 0.9), align=("L", "R", "R", "R"))]
    out.append(Paragraph(
        _("Pre-trend check: in a placebo pilot inside the pre-period the treated stores' profit moved with the "
          "controls' (its interval contains zero).") if readout.pre_trend_ok else
        _("Pre-trend check: before the pilot the treated stores' profit already drifted apart from the controls' — "
          "the estimate may mistake that drift for the forecast's effect.")))
    return out


def _promise_sections(readout: PilotReadout, evidence: OnlineEvidence, running_cost: float | None) -> list[Section]:
    out: list[Section] = [Heading(_("The offline promise against the online measurement"),
                                  keep=figure_room(ONLINE_HEIGHT))]
    profit = readout.estimate(PROFIT)
    if profit is None:
        return [*out, Paragraph(_("The readout has no profit estimate: nothing to set beside the promise."))]
    from core.decision.pdf_charts import online_png

    offline = evidence.offline_yearly_savings
    offline = None if offline is None or fmt.missing(offline) else float(offline)
    out.append(Figure(online_png(offline, profit.yearly, profit.low, profit.high, readout.level,
                                 running_cost if running_cost and running_cost > 0 else None,
                                 width_mm=180, height_mm=ONLINE_HEIGHT),
                      ONLINE_HEIGHT, _("Yen a year for the chain ({n} stores). The backtest's figure is its money "
                                       "impact; the pilot's is the difference-in-differences of profit with its "
                                       "interval.").format(n=readout.chain_stores)))
    out.append(Paragraph(promise_sentence(profit, offline)))
    lines = []
    if evidence.offline_model:
        lines.append(_("The promise is that of {model}, as the treated stores ordered from it.").format(
            model=fmt.model_name(evidence.offline_model)))
    designed = evidence.design_offline_yearly_savings
    if designed is not None and offline is not None and abs(designed - offline) >= 1:
        lines.append(_("The design was sized on {amount} a year; the pilot is read against the piloted batch's own "
                       "promise.").format(amount=fmt.yen_short(designed)))
    if offline is not None:
        inside = profit.low <= offline <= profit.high
        lines.append((_("The backtest's figure lies inside the pilot's {level} interval: the stores did not "
                        "contradict it.") if inside else
                      _("The backtest's figure lies outside the pilot's {level} interval: the stores measured "
                        "something else than the promise.")).format(level=fmt.pct(readout.level, 0)))
    if lines:
        out.append(Paragraph(" ".join(lines), muted=True))
    return out


# ---------------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------------
def _tick(day: str) -> str:
    value = date.fromisoformat(day)
    return f"{value.month}/{value.day}"


def outcome_png(weeks: list[dict], readout: PilotReadout, width_mm: float = 180,
                height_mm: float = CHART_HEIGHT) -> bytes:
    """Profit per store-day, week by week: treated (solid, dots) against control (dashed,
    squares) with the pilot's weeks shaded; beside it the gap treated − control with its
    mean before and during drawn dashed, their values in its title (their difference is the
    estimate). Legible in black and white: the groups differ by dash and marker."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    x = list(range(len(weeks)))
    first_during = next((i for i, w in enumerate(weeks) if w["during"]), len(weeks))
    treated = [w["treated"] for w in weeks]
    control = [w["control"] for w in weeks]
    gap = [t - c for t, c in zip(treated, control, strict=True)]
    ticks = [_tick(w["start"]) for w in weeks]
    yen = FuncFormatter(lambda v, _pos: fmt.yen(v))

    def days_weighted(values: list[float], during: bool) -> float | None:
        chosen = [(v, w["days"]) for v, w in zip(values, weeks, strict=True) if w["during"] == during]
        total = sum(d for _v, d in chosen)
        return sum(v * d for v, d in chosen) / total if total else None

    with paper_charts.style():
        fig, (left, right) = paper_charts.figure(width_mm, height_mm, columns=2, width_ratios=(3, 2.2))
        for ax, share in ((left, 0.55), (right, 0.38)):
            if first_during < len(weeks):
                ax.axvspan(first_during - 0.5, len(weeks) - 0.5, color="#ececec", zorder=0, linewidth=0)
                ax.axvline(first_during - 0.5, color=paper_charts.INK, linewidth=0.8, zorder=1)
            room = width_mm * share / max(len(weeks), 1)  # mm a week on this axis
            step = max(1, math.ceil(12.5 / room))  # a label "10/25" takes about 9 mm, and some room
            ax.set_xticks(x, [t if (i - first_during) % step == 0 else "" for i, t in enumerate(ticks)])
            ax.set_xlim(-0.5, len(weeks) - 0.5)
            ax.grid(axis="y", color=paper_charts.GRID, linewidth=0.6)
            ax.set_axisbelow(True)
            ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_formatter(yen)
            ax.set_xlabel(_("week starting (month/day)"))
        left.plot(x, treated, color=paper_charts.INK, linestyle="-", marker="o", markersize=4.5, linewidth=1.6,
                  label=_("Treated (orders from the model)"), zorder=3)
        left.plot(x, control, color="#6e6e6e", linestyle=(0, (4, 2)), marker="s", markersize=4.5,
                  markerfacecolor="white", linewidth=1.4, label=_("Control (today's practice)"), zorder=3)
        low, high = min(treated + control), max(treated + control)
        span = (high - low) or abs(high) or 1.0
        left.set_ylim(low - 0.1 * span, high + 0.45 * span)  # room above for the legend and the pilot's label
        left.legend(loc="upper left", ncols=2, fontsize=7, handlelength=2.8, frameon=True, facecolor="white",
                    edgecolor="none", framealpha=1.0)
        paper_charts.title(left, _("Profit per store-day: treated and control stores"), width_mm * 0.6)
        right.plot(x, gap, color=paper_charts.INK, linestyle="-", marker="D", markersize=4, linewidth=1.2, zorder=3)
        right.axhline(0, color=paper_charts.MUTED, linewidth=0.7)
        levels = []
        for during, lo, hi in ((False, -0.5, first_during - 0.5), (True, first_during - 0.5, len(weeks) - 0.5)):
            mean = days_weighted(gap, during)
            if mean is None:
                continue
            levels.append(mean)
            right.plot([lo, hi], [mean, mean], color=paper_charts.INK, linestyle=(0, (2, 1.5)), linewidth=1.0,
                       zorder=2)
        values = gap + levels + [0.0]
        low, high = min(values), max(values)
        span = (high - low) or abs(high) or 1.0
        right.set_ylim(low - 0.12 * span, high + 0.12 * span)
        if len(levels) == 2:
            name = _("Treated less control: mean gap {before} → {during}").format(
                before=fmt.yen(levels[0], signed=True), during=fmt.yen(levels[1], signed=True))
        else:
            name = _("Treated less control")
        paper_charts.title(right, name, width_mm * 0.36)  # the panel is 2.2 of 5.2 of the width, less its tick labels
        return paper_charts.png(fig)
