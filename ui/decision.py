"""The GO / NO-GO report in the browser: the evaluation form and the rendering of a
stored decision snapshot (everything shown comes from the snapshot).

Words are the reader's language (``core.i18n``): the snapshot keeps its sentences as
facts (``Msg``) or, when older, as plain English, and ``said`` shows either."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from core import fmt, periods
from core.backtest import accounting
from core.backtest import charts as backtest_charts
from core.columns import Freq
from core.decision import charts as decision_charts
from core.decision import online as pilot
from core.decision.pdf import listing, moment, rung_name, said, status_text, verdict_text
from core.decision.store import DecisionInfo
from core.decision.verdict import (
    AREAS,
    CHECKS,
    CONDITIONAL_GO,
    GO,
    SCORE_MEANING,
    SCORES,
    Decision,
    score_band,
    segment_sentence,
)
from core.errors import MitoshiError
from core.forecast.registry import MODELS, is_external, model_info
from core.i18n import N_, _, ngettext, pgettext
from core.money import charts as money_charts
from core.money.impact import ERRORS
from core.paper.store import TITLES
from core.pilot.evidence import DESIGNED, NONE, PROFIT, READ, OnlineEvidence
from core.text import md
from ui.state import change_metric, table

BANNER: dict[str, tuple[Callable, str]] = {
    GO: (st.success, ":material/check_circle:"),
    CONDITIONAL_GO: (st.warning, ":material/rule:"),
}


def readiness_form(key: str, previous: Decision | None) -> dict[str, float]:
    """The hand-scored readiness checks, pre-filled from the project's last decision."""
    before = {r.key: r.score for r in previous.readiness} if previous else {}
    scores: dict[str, float] = {}
    columns = st.columns(len(AREAS))
    meaning = " · ".join(f"{s:g} = {said(m)}" for s, m in SCORE_MEANING.items())
    for area, column in zip(AREAS, columns, strict=True):
        with column:
            st.markdown(f"**{said(area)}**")
            for check in (c for c in CHECKS if c.area == area):
                if check.auto:
                    st.caption(":material/bolt: " + _("{check} *(scored from the evidence)*").format(
                        check=said(check.text)))
                    continue
                scores[check.key] = st.segmented_control(
                    said(check.text), SCORES, default=before.get(check.key, 0.0), key=f"{key}_{check.key}",
                    format_func=lambda s: {0.0: "0", 0.5: "½", 1.0: "1"}[s], help=meaning) or 0.0
    return scores


def render_decision(decision: Decision, key: str) -> None:
    show, icon = BANNER.get(decision.verdict, (st.error, ":material/block:"))
    show(f"### {verdict_text(decision.verdict)}\n" + "\n".join(f"- {md(said(r))}" for r in decision.reasons),
         icon=icon)
    scored = said(accounting.scored_phrase(decision.series_scored, decision.n_series))
    freq = Freq(decision.freq)
    money = (_("money: the cost of forecast errors") if decision.money_model == ERRORS else
             _("ordering at {ordering}").format(ordering=md(said(decision.ordering_words))))
    st.caption(_("Decided {when} · project **{project}** (problem definition version {version}) · run *{run}* on "
                 "{dataset} ({scored}, {folds} folds × {span}) · model **{model}** · {money} · decision {decision}")
               .format(when=moment(decision.created_at, seconds=True), project=md(decision.project_name),
                       version=decision.definition_version, run=md(decision.run_name),
                       dataset=md(decision.dataset_name), scored=scored, folds=decision.folds,
                       span=periods.span(freq, decision.horizon), model=md(fmt.model_name(decision.model)),
                       money=money, decision=decision.decision_id))

    st.subheader(_("Next steps"), anchor=False)
    st.markdown("\n".join(f"{i}. {md(said(s))}" for i, s in enumerate(decision.next_steps, start=1)))

    counts = {"passed": decision.passed, "total": len(decision.criteria), "n": decision.pending}
    st.subheader((_("GO/NO-GO criteria: {passed} of {total} passed ({n} wait for the pilot)") if decision.pending else
                  _("GO/NO-GO criteria: {passed} of {total} passed")).format(**counts), anchor=False)
    mark = {True: ":green[**" + _("✓ passed") + "**]", False: ":red[**" + _("✗ failed") + "**]",
            None: ":orange[**" + _("? not evaluated") + "**]"}
    for c in decision.criteria:
        with st.container(border=True):
            shown = (":blue[:material/hourglass_empty: **" + _("not yet evaluated") + "**]" if c.pending
                     else mark[c.passed])
            where = " · *" + _("online (pilot)") + "*" if c.online else ""
            st.markdown(_("{result}\u00a0\u00a0**{criterion}** — measured **{measured}**{where}").format(
                result=shown, criterion=md(said(c.criterion)), measured=md(said(c.measured_text)), where=where))
            st.caption(md(said(c.evidence)) + ("  \n" + _("Why this threshold: {note}").format(note=md(said(c.note)))
                                                if said(c.note) else ""))

    _stated_vs_measured(decision)
    _online(decision, key)

    value = decision.value
    baseline = said(decision.baseline_label)
    cols = st.columns(4)
    cols[0].metric(_("Yearly savings"), fmt.yen(value["yearly_savings"]),
                   help=_("Against {baseline}.").format(baseline=md(baseline)))
    cols[1].metric(_("Yearly running cost"), fmt.yen(value["running_cost"]))
    cols[2].metric(_("Yearly net benefit"), fmt.yen(value["net_benefit"]))
    cols[3].metric(_("Payback"), fmt.MISSING if value["payback_months"] is None else
                   _("{n} months").format(n=fmt.number(value["payback_months"], 1)),
                   help=_("Initial investment {amount}.").format(amount=fmt.yen(value["investment"])))

    if value.get("loss_share_baseline") is not None:
        base = baseline[:1].upper() + baseline[1:]
        cols = st.columns(4)
        cols[0].metric(_("Yearly sales in the data"), fmt.yen(value.get("yearly_sales")),
                       help=_("Read the value claimed up front against it."))
        loss = value["loss_share_model"] - value["loss_share_baseline"] if value["loss_share_model"] is not None \
            else None
        change_metric(cols[1], _("Waste + stockout loss, share of sales"), fmt.pct_fine(value["loss_share_model"]),
                      loss, fmt.pp(loss), better="down",
                      help=_("{baseline}: {share}.").format(baseline=md(base),
                                                             share=fmt.pct_fine(value["loss_share_baseline"])))
        filled = value["fill_rate_model"] - value["fill_rate_baseline"]
        change_metric(cols[2], _("Demand filled"), fmt.pct(value["fill_rate_model"]), filled,
                      fmt.pp_between(value["fill_rate_model"], value["fill_rate_baseline"]),
                      help=_("{baseline}: {share}. Sold ÷ (estimated) demand.").format(
                          baseline=md(base), share=fmt.pct(value["fill_rate_baseline"])))
        if value.get("value_claimed"):
            cols[3].metric(_("Measured ÷ value claimed"), fmt.share_of(value["yearly_savings"], value["value_claimed"]),
                           help=_("Value claimed up front: {amount} a year.").format(
                               amount=fmt.yen(value["value_claimed"])))
    _charts(decision, key)
    _accounted(decision)
    _evidence(decision)
    _readiness(decision, key)

    st.subheader(_("Risks and open questions"), anchor=False)
    st.markdown("\n".join(f"- {md(said(r))}" for r in decision.risks) or _("None recorded."))
    with st.expander(_("The problem this decision is about"), icon=":material/assignment:"):
        st.markdown(_("**Problem:** {problem}\n\n**Decision supported:** {supported}\n\n**KPI:** {kpi}\n\n"
                      "**Value claimed:** {amount} a year").format(
            problem=md(decision.problem or fmt.MISSING), supported=md(decision.decision_supported or fmt.MISSING),
            kpi=md(decision.kpi or fmt.MISSING), amount=fmt.yen(decision.value_yen_per_year)))
        if decision.reports:
            st.markdown(_("**The reports it rests on:** {reports}").format(reports="; ".join(
                _("{kind} v{version} of {when} (report {report})").format(
                    kind=_(TITLES.get(r.get("kind"), r.get("kind", ""))), version=r.get("version"),
                    when=moment(r.get("created_at")), report=r.get("report_id")) for r in decision.reports)))
    if decision.notes:
        st.markdown(_("**Notes:** {notes}").format(notes=md(decision.notes)))


# The colour of each of the reconciliation's results (core.decision.verdict), as a snapshot keeps them.
STATUS_COLOUR = {"agrees": "green", "met": "green", "kept": "green", "in line": "green", "differs": "orange",
                 "above the claim": "orange", "cannot be measured": "orange", "not met": "red",
                 "below the claim": "red", "broken": "red"}


def _stated_vs_measured(decision: Decision) -> None:
    """The problem definition's own numbers beside what the run measured (nothing for a
    snapshot written before they were reconciled)."""
    rows = decision.stated_vs_measured
    if not rows:
        return
    st.subheader(_("The problem's numbers: stated and measured"), anchor=False)
    lines = ["| | " + _("stated in the problem definition") + " | " + _("measured") + " | |", "|---|---|---|---|"]
    for row in rows:
        status = row["status"]
        colour = STATUS_COLOUR.get(status) if isinstance(status, str) else None
        shown = f":{colour}[{md(status_text(status))}]" if colour else md(status_text(status))
        lines.append(f"| **{_cell(said(row['item']))}** | {_cell(said(row['stated']))} | "
                     f"{_cell(said(row['measured']))} | {shown} |")
    st.markdown("\n".join(lines))
    st.caption("  \n".join(f"{md(said(row['item']))}: {md(said(row['note']))}" for row in rows if row.get("note")))


def _online(decision: Decision, key: str) -> None:
    """The online evaluation beside the offline evidence: the pilot's status, stores and
    dates, its estimates with their intervals, the promise against the measurement and
    its chart (from the snapshot's facts; an older snapshot has none)."""
    evidence = decision.online_evidence
    st.subheader(_("Online evaluation: the pilot in stores"), anchor=False)
    if decision.online is None:
        st.caption(_("This decision was taken before Mitoshi kept the online evidence with a decision."))
        return
    status = said(pilot.status_label(evidence))
    if evidence.status == NONE:
        st.info(_("**Status: {status}.** The offline promise has not been tested in stores: design a pilot (treated "
                  "and control stores, its length from a power calculation) and decide again after its readout.")
                .format(status=md(status)), icon=":material/storefront:")
        return
    lines = [_("**Status: {status}** · {pilot}.").format(status=md(status),
                                                         pilot=md(said(pilot.pilot_sentence(evidence))))]
    if evidence.chain_stores:
        lines.append(ngettext("Yearly effects are scaled to the chain's {n} store.",
                              "Yearly effects are scaled to the chain's {n} stores.",
                              evidence.chain_stores).format(n=evidence.chain_stores))
    detectable = pilot.detectable_text(evidence)
    if detectable:
        lines.append(_("Designed to detect {effect}.").format(effect=md(said(detectable))))
    st.markdown("  \n".join(lines))
    if evidence.status != READ:
        st.caption(_("The online criteria wait for the readout: until then the verdict is at most a conditional GO."))
        return
    offline = pilot.promised(evidence, decision.value.get("yearly_savings"), decision.model)
    sentence = pilot.promise_sentence(evidence, offline)
    if sentence:
        st.markdown(f"**{md(said(sentence))}**")
    rows = pilot.estimate_rows(evidence)
    if rows:
        names = {"measure": _("measure"), "yearly": _("yearly effect (chain)"), "interval": _("interval"),
                 "p_value": _("p-value"), "per_store_day": _("per store and day"), "reading": _("reading")}
        frame = pd.DataFrame([{k: said(v) for k, v in r.items()} for r in rows])
        table(frame.rename(columns=names))
        st.caption(_("Difference-in-differences of treated against control stores, before against during the pilot; "
                     "intervals from the stores' changes, each store one observation (its days may be as correlated "
                     "as days are). Reading: better or worse when the whole interval is on one side of zero."))
    profit = evidence.estimate(PROFIT)
    if profit is not None:
        st.plotly_chart(decision_charts.promise_vs_pilot(offline, profit.yearly, profit.low, profit.high,
                                                         profit.level, decision.value.get("running_cost")),
                        width="stretch", key=f"{key}_online")
    for note in evidence.notes:
        st.caption(f":material/info: {md(said(note))}")


def _cell(text: str) -> str:
    """Text for a markdown table cell, its first letter raised ("Today's practice")."""
    text = str(text)
    return md(text[:1].upper() + text[1:]).replace("\n", " ")  # md escapes "|" already


def _charts(decision: Decision, key: str) -> None:
    board = pd.DataFrame(decision.leaderboard)
    money = pd.DataFrame(decision.money)
    st.subheader(_("The evidence in pictures"), anchor=False)
    if not board.empty:
        complexity = {m: model_info(m).complexity for m in board["model"] if m in MODELS or is_external(m)}
        effort = (dict(zip(board["model"], board["effort_weeks"].where(board["effort_weeks"].notna(), None)))
                  if "effort_weeks" in board else None)
        st.plotly_chart(backtest_charts.ladder(board, complexity, effort), width="stretch", key=f"{key}_ladder")
    left, right = st.columns(2)
    for baseline in ("practice", "snaive"):
        if f"vs_{baseline}" in board:
            left.plotly_chart(backtest_charts.improvement_bars(board.set_index("model")[f"vs_{baseline}"], baseline),
                              width="stretch", key=f"{key}_gain")
            break
    if not money.empty:
        right.plotly_chart(money_charts.savings_bars(money, said(decision.baseline_label)), width="stretch",
                           key=f"{key}_savings")
        left, right = st.columns(2)
        if decision.money_model != "errors":  # the cost of errors has no waste or empty shelves to split
            left.plotly_chart(money_charts.loss_split(money), width="stretch", key=f"{key}_split")
        sensitivity = pd.DataFrame(decision.sensitivity)
        if not sensitivity.empty:
            optimal = money if _per_item(decision.ordering) else None
            right.plotly_chart(money_charts.sensitivity_lines(sensitivity, optimal, decision.freq),
                               width="stretch", key=f"{key}_sensitivity")
    for note in decision.money_notes:
        st.caption(f":material/info: {md(said(note))}")


def _per_item(ordering: object) -> bool:
    """The ordering decided on was each item's own service level (its English, or a
    stored message whose English says so)."""
    text = getattr(ordering, "text", ordering)
    if isinstance(ordering, dict):
        text = ordering.get("msg") or ordering.get("text") or ""
    return str(text).startswith("each item")


def _accounted(decision: Decision) -> None:
    """What the run's folds left out and which models fell back (nothing for an older snapshot)."""
    if not decision.accounting:
        return
    st.subheader(_("Every series accounted for"), anchor=False)
    st.markdown("\n".join(f"- {md(said(line))}" for line in decision.accounting))


def _evidence(decision: Decision) -> None:
    st.subheader(_("Significance and stability"), anchor=False)
    for test in decision.significance:
        st.markdown(f"- {md(said(test['statement']))}")
    stability = decision.stability
    worst = stability.get("worst_fold")
    if worst:
        cutoff, wape = fmt.date(str(worst["cutoff"])[:10]), fmt.pct(worst["wape"])
        if worst.get("baseline_wape") is not None:
            line = _("Worst fold: cutoff {cutoff}, WAPE {wape} ({baseline}: {baseline_wape}).").format(
                cutoff=cutoff, wape=wape, baseline=md(fmt.policy_name(stability["baseline"])),
                baseline_wape=fmt.pct(worst["baseline_wape"]))
        else:
            line = _("Worst fold: cutoff {cutoff}, WAPE {wape}.").format(cutoff=cutoff, wape=wape)
        st.markdown(f"- {line}")
    if stability.get("worst_segment"):
        st.markdown(f"- {md(said(segment_sentence(decision.model, stability)))}")


def _readiness(decision: Decision, key: str) -> None:
    overall = decision.readiness_overall
    st.subheader(_("Production readiness: ML Test Score {score}").format(score=f"{overall:g}"), anchor=False)
    band = said(score_band(overall))
    st.caption(_("{band}. Four areas modelled on Google's ML Test Score (Breck et al., 2017); each check scores 0, ½ "
                 "(by hand, documented) or 1 (automated); the overall score is the lowest area.").format(
        band=band[:1].upper() + band[1:]))
    per_area = {a: sum(1 for c in CHECKS if c.area == a) for a in AREAS}
    st.plotly_chart(decision_charts.readiness_bars(decision.readiness_areas, per_area), width="stretch",
                    key=f"{key}_readiness")
    with st.expander(_("Every check and its evidence"), icon=":material/checklist:"):
        area, score, check, evidence = _("area"), _("score"), _("check"), _("evidence")
        table(pd.DataFrame([{area: said(r.area), score: r.score, check: said(r.text), evidence: said(r.evidence)}
                            for r in decision.readiness], columns=[area, score, check, evidence]),
              column_config={score: st.column_config.NumberColumn(format="%.1f", width="small"),
                             check: st.column_config.TextColumn(width="large"),
                             evidence: st.column_config.TextColumn(width="large")})


def criteria_preview(criteria, money_baselines: dict[str, float | None]) -> str:
    """The project's criteria as a list, with the money they are measured against."""
    lines = [f"- {md(said(c.describe()))}" + (f" — *{md(c.description)}*" if c.description else "")
             for c in criteria]
    known = {k: v for k, v in money_baselines.items() if v is not None}
    if known:
        lines.append("\n" + _("Money baselines: {baselines}").format(baselines=listing(
            f"{_(MONEY_BASELINES.get(k, k.replace('_', ' ')))} {fmt.yen(v)}"
            for k, v in known.items())))
    return "\n".join(lines)


# The money a problem definition states up front (ProblemDefinition.money_baselines), by key.
MONEY_BASELINES = {"yearly_running_cost": N_("yearly running cost"), "initial_investment": N_("initial investment")}


def online_preview(evidence: OnlineEvidence, online_criteria: int) -> str:
    """What the decision about to be taken will read of the pilot, for the evaluation form."""
    if evidence.status == READ:
        return _("**Online evaluation:** pilot read out — {pilot}. Its estimates go into the decision.").format(
            pilot=md(said(pilot.pilot_sentence(evidence))))
    if evidence.status == DESIGNED:
        where = _("**Online evaluation:** pilot designed, not read out yet — {pilot}.").format(
            pilot=md(said(pilot.pilot_sentence(evidence))))
    else:
        where = _("**Online evaluation:** no pilot designed yet.")
    if online_criteria:
        wait = ngettext("The {n} online criterion will be *not yet evaluated*, and the verdict at most a conditional "
                        "GO.", "The {n} online criteria will be *not yet evaluated*, and the verdict at most a "
                        "conditional GO.", online_criteria).format(n=online_criteria)
    else:
        wait = _("No criterion names an online measure: the decision rests on the offline evidence.")
    return f"{where} {wait}"


def ladder_evidence(decision: Decision) -> str:
    """What the project's latest decision measured on each rung: best WAPE and money."""
    savings = {r["policy"]: r.get("yearly_savings") for r in decision.money}
    best: dict[str, dict] = {}
    for row in sorted(decision.leaderboard, key=lambda r: r.get("wape") if r.get("wape") is not None else 9e9):
        if row.get("rung") and row["rung"] != "current practice":
            best.setdefault(row["rung"], row)
    lines = ["- " + _("**{rung}**: best {model}, WAPE {wape}, saves {amount} a year").format(
        rung=md(rung_name(rung)), model=md(fmt.model_name(row["model"])), wape=fmt.pct(row.get("wape")),
        amount=fmt.yen(savings.get(row["model"]))) for rung, row in best.items()]
    return (_("**Measured by the decision of {when}** ({verdict}, run *{run}*): the ladder stopped at **{model}**.")
            .format(when=moment(decision.created_at, seconds=True), verdict=verdict_text(decision.verdict),
                    run=md(decision.run_name), model=md(fmt.model_name(decision.model))) + "\n" + "\n".join(lines))


HEADS = "report_decision_heads"  # session cache: decision id → (model alias, run name, online status key)
# The decisions list's columns: machine keys, shown under these headers.
HEAD_LABELS = {"decided": N_("decided"), "verdict": N_("verdict"), "model": N_("model"), "run": N_("run"),
               "online": N_("online"), "decision": N_("decision")}


def decision_heads(history: Sequence[DecisionInfo], load: Callable[[str], Decision]) -> list[dict]:
    """One record per decision of ``history`` (newest first) for the list at the bottom
    of the report: ``decided`` (datetime), ``verdict`` (its label), ``model`` (its name
    for people), ``run`` (the run's name), ``online`` (when it was taken: before any
    pilot, before the pilot (designed), after the pilot; blank for a snapshot older than
    the online evidence), ``decision`` (its id) and ``label`` (for the "Show decision"
    box: ``2025-05-01 10:00 · GO · ETS · run "two stores" · after the pilot ·
    1a2b3c4d5e6f``), all in the current language. Model, run and online status come
    from each snapshot, read once with ``load`` and kept for the session as facts (a
    snapshot is immutable; the words follow the language); one this version cannot read
    shows them blank."""
    cache: dict[str, tuple[str, str, str]] = st.session_state.setdefault(HEADS, {})
    rows = []
    for info in history:
        if len(cache.get(info.decision_id, ())) != 3:
            try:
                snapshot = load(info.decision_id)
                online = "" if snapshot.online is None else snapshot.online_evidence.status
                cache[info.decision_id] = (snapshot.model, snapshot.run_name, online)
            except MitoshiError:
                cache[info.decision_id] = ("", "", "")
        alias, run, status = cache[info.decision_id]
        model = fmt.model_name(alias) if alias else ""
        online = said(pilot.STATUS_SHORT.get(status, "")) if status else ""
        verdict = verdict_text(info.verdict)
        parts = [moment(info.created_at), verdict, model, pgettext("decision list", "run “{run}”").format(run=run)
                 if run else "", online, info.decision_id]
        rows.append({"decided": info.created_at, "verdict": verdict, "model": model, "run": run,
                     "online": online, "decision": info.decision_id, "label": " · ".join(p for p in parts if p)})
    return rows
