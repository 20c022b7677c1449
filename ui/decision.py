"""The GO / NO-GO report in the browser: the evaluation form and the rendering of a
stored decision snapshot (everything shown comes from the snapshot)."""

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
from core.money import charts as money_charts
from core.money.impact import ERRORS
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
    for area, column in zip(AREAS, columns, strict=True):
        with column:
            st.markdown(f"**{area}**")
            for check in (c for c in CHECKS if c.area == area):
                if check.auto:
                    st.caption(f":material/bolt: {check.text} *(scored from the evidence)*")
                    continue
                scores[check.key] = st.segmented_control(
                    check.text, SCORES, default=before.get(check.key, 0.0), key=f"{key}_{check.key}",
                    format_func=lambda s: {0.0: "0", 0.5: "½", 1.0: "1"}[s],
                    help=" · ".join(f"{s:g} = {m}" for s, m in SCORE_MEANING.items())) or 0.0
    return scores


def render_decision(decision: Decision, key: str) -> None:
    show, icon = BANNER.get(decision.verdict, (st.error, ":material/block:"))
    show(f"### {decision.verdict}\n" + "\n".join(f"- {md(r)}" for r in decision.reasons), icon=icon)
    scored = accounting.scored_phrase(decision.series_scored, decision.n_series)
    freq = Freq(decision.freq)
    money = ("money: the cost of forecast errors" if decision.money_model == ERRORS else
             f"ordering at {md(decision.ordering_words)}")
    st.caption(f"Decided {decision.created_at.replace('T', ' ')} · project **{md(decision.project_name)}** (problem "
               f"definition version {decision.definition_version}) · run *{md(decision.run_name)}* on "
               f"{md(decision.dataset_name)} ({scored}, {decision.folds} folds × "
               f"{periods.span(freq, decision.horizon)}) · model **{md(fmt.model_name(decision.model))}** · {money} · "
               f"decision {decision.decision_id}")

    st.subheader("Next steps", anchor=False)
    st.markdown("\n".join(f"{i}. {md(s)}" for i, s in enumerate(decision.next_steps, start=1)))

    waiting = f" ({decision.pending} wait for the pilot)" if decision.pending else ""
    st.subheader(f"GO/NO-GO criteria: {decision.passed} of {len(decision.criteria)} passed{waiting}", anchor=False)
    for c in decision.criteria:
        with st.container(border=True):
            mark = {True: ":green[**✓ passed**]", False: ":red[**✗ failed**]", None: ":orange[**? not evaluated**]"}
            shown = ":blue[:material/hourglass_empty: **not yet evaluated**]" if c.pending else mark[c.passed]
            where = " · *online (pilot)*" if c.online else ""
            st.markdown(f"{shown} &nbsp; **{md(c.criterion)}** — measured **{md(c.measured_text)}**{where}")
            st.caption(md(c.evidence) + (f"  \nWhy this threshold: {md(c.note)}" if c.note else ""))

    _stated_vs_measured(decision)
    _online(decision, key)

    value = decision.value
    cols = st.columns(4)
    cols[0].metric("Yearly savings", fmt.yen(value["yearly_savings"]), help=f"Against {decision.baseline_label}.")
    cols[1].metric("Yearly running cost", fmt.yen(value["running_cost"]))
    cols[2].metric("Yearly net benefit", fmt.yen(value["net_benefit"]))
    cols[3].metric("Payback", "–" if value["payback_months"] is None else
                   f"{fmt.number(value['payback_months'], 1)} months",
                   help=f"Initial investment {fmt.yen(value['investment'])}.")

    if value.get("loss_share_baseline") is not None:
        base = decision.baseline_label[:1].upper() + decision.baseline_label[1:]
        cols = st.columns(4)
        cols[0].metric("Yearly sales in the data", fmt.yen(value.get("yearly_sales")),
                       help="Read the value claimed up front against it.")
        loss = value["loss_share_model"] - value["loss_share_baseline"] if value["loss_share_model"] is not None \
            else None
        change_metric(cols[1], "Waste + stockout loss, share of sales", fmt.pct_fine(value["loss_share_model"]), loss,
                      fmt.pp(loss), better="down",
                      help=f"{md(base)}: {fmt.pct_fine(value['loss_share_baseline'])}.")
        filled = value["fill_rate_model"] - value["fill_rate_baseline"]
        change_metric(cols[2], "Demand filled", fmt.pct(value["fill_rate_model"]), filled, fmt.pp(filled),
                      help=f"{md(base)}: {fmt.pct(value['fill_rate_baseline'])}. Sold ÷ (estimated) demand.")
        if value.get("value_claimed"):
            cols[3].metric("Measured ÷ value claimed", fmt.share_of(value["yearly_savings"], value["value_claimed"]),
                           help=f"Value claimed up front: {fmt.yen(value['value_claimed'])} a year.")
    _charts(decision, key)
    _accounted(decision)
    _evidence(decision)
    _readiness(decision, key)

    st.subheader("Risks and open questions", anchor=False)
    st.markdown("\n".join(f"- {md(r)}" for r in decision.risks) or "None recorded.")
    with st.expander("The problem this decision is about", icon=":material/assignment:"):
        st.markdown(f"**Problem:** {md(decision.problem or '–')}\n\n**Decision supported:** "
                    f"{md(decision.decision_supported or '–')}\n\n**KPI:** {md(decision.kpi or '–')}\n\n"
                    f"**Value claimed:** {fmt.yen(decision.value_yen_per_year)} a year")
    if decision.notes:
        st.markdown(f"**Notes:** {md(decision.notes)}")


STATUS_MARK = {"agrees": ":green[agrees]", "met": ":green[✓ met]", "kept": ":green[✓ kept]",
               "in line": ":green[in line]", "differs": ":orange[differs]", "above the claim": ":orange[above the claim]",
               "cannot be measured": ":orange[? cannot be measured]", "not met": ":red[✗ not met]",
               "below the claim": ":red[below the claim]", "broken": ":red[✗ broken]"}


def _stated_vs_measured(decision: Decision) -> None:
    """The problem definition's own numbers beside what the run measured (nothing for a
    snapshot written before they were reconciled)."""
    rows = decision.stated_vs_measured
    if not rows:
        return
    st.subheader("The problem's numbers: stated and measured", anchor=False)
    lines = ["| | stated in the problem definition | measured | |", "|---|---|---|---|"]
    for row in rows:
        status = STATUS_MARK.get(row["status"], md(row["status"]))
        lines.append(f"| **{_cell(row['item'])}** | {_cell(row['stated'])} | {_cell(row['measured'])} | {status} |")
    st.markdown("\n".join(lines))
    st.caption("  \n".join(f"{md(row['item'])}: {md(row['note'])}" for row in rows if row.get("note")))


def _online(decision: Decision, key: str) -> None:
    """The online evaluation beside the offline evidence: the pilot's status, stores and
    dates, its estimates with their intervals, the promise against the measurement and
    its chart (from the snapshot's facts; an older snapshot has none)."""
    evidence = decision.online_evidence
    st.subheader("Online evaluation: the pilot in stores", anchor=False)
    if decision.online is None:
        st.caption("This decision was taken before Mitoshi kept the online evidence with a decision.")
        return
    status = pilot.status_label(evidence)
    if evidence.status == NONE:
        st.info(f"**Status: {status}.** The offline promise has not been tested in stores: design a pilot (treated "
                "and control stores, its length from a power calculation) and decide again after its readout.",
                icon=":material/storefront:")
        return
    lines = [f"**Status: {status}** · {md(pilot.pilot_sentence(evidence))}."]
    if evidence.chain_stores:
        lines.append(f"Yearly effects are scaled to the chain's {evidence.chain_stores} stores.")
    if pilot.detectable_text(evidence):
        lines.append(f"Designed to detect {pilot.detectable_text(evidence)}.")
    st.markdown("  \n".join(lines))
    if evidence.status != READ:
        st.caption("The online criteria wait for the readout: until then the verdict is at most a conditional GO.")
        return
    offline = pilot.promised(evidence, decision.value.get("yearly_savings"), decision.model)
    sentence = pilot.promise_sentence(evidence, offline)
    if sentence:
        st.markdown(f"**{md(sentence)}**")
    rows = pilot.estimate_rows(evidence)
    if rows:
        table(pd.DataFrame(rows).rename(columns={
            "yearly": "yearly effect (chain)", "interval": "interval", "p_value": "p-value",
            "per_store_day": "per store and day", "reading": "reading"}))
        st.caption("Difference-in-differences of treated against control stores, before against during the pilot; "
                   "intervals from the stores' changes, each store one observation (its days may be as correlated as "
                   "days are). Reading: better or worse when the whole interval is on one side of zero.")
    profit = evidence.estimate(PROFIT)
    if profit is not None:
        st.plotly_chart(decision_charts.promise_vs_pilot(offline, profit.yearly, profit.low, profit.high,
                                                         profit.level, decision.value.get("running_cost")),
                        width="stretch", key=f"{key}_online")
    for note in evidence.notes:
        st.caption(f":material/info: {md(note)}")


def _cell(text: str) -> str:
    """Text for a markdown table cell, its first letter raised ("Today's practice")."""
    text = str(text)
    return md(text[:1].upper() + text[1:]).replace("\n", " ")  # md escapes "|" already


def _charts(decision: Decision, key: str) -> None:
    board = pd.DataFrame(decision.leaderboard)
    money = pd.DataFrame(decision.money)
    st.subheader("The evidence in pictures", anchor=False)
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
        right.plotly_chart(money_charts.savings_bars(money, decision.baseline_label), width="stretch",
                           key=f"{key}_savings")
        left, right = st.columns(2)
        if decision.money_model != "errors":  # the cost of errors has no waste or empty shelves to split
            left.plotly_chart(money_charts.loss_split(money), width="stretch", key=f"{key}_split")
        sensitivity = pd.DataFrame(decision.sensitivity)
        if not sensitivity.empty:
            optimal = money if decision.ordering.startswith("each item") else None
            right.plotly_chart(money_charts.sensitivity_lines(sensitivity, optimal, decision.freq),
                               width="stretch", key=f"{key}_sensitivity")
    for note in decision.money_notes:
        st.caption(f":material/info: {md(note)}")


def _accounted(decision: Decision) -> None:
    """What the run's folds left out and which models fell back (nothing for an older snapshot)."""
    if not decision.accounting:
        return
    st.subheader("Every series accounted for", anchor=False)
    st.markdown("\n".join(f"- {md(line)}" for line in decision.accounting))


def _evidence(decision: Decision) -> None:
    st.subheader("Significance and stability", anchor=False)
    for test in decision.significance:
        st.markdown(f"- {md(test['statement'])}")
    stability = decision.stability
    worst = stability.get("worst_fold")
    if worst:
        base = (f" ({md(fmt.model_name(stability['baseline']))}: {fmt.pct(worst['baseline_wape'])})"
                if worst.get("baseline_wape") is not None else "")
        st.markdown(f"- Worst fold: cutoff {str(worst['cutoff'])[:10]}, WAPE {fmt.pct(worst['wape'])}{base}.")
    if stability.get("worst_segment"):
        st.markdown(f"- {md(segment_sentence(decision.model, stability))}")


def _readiness(decision: Decision, key: str) -> None:
    st.subheader(f"Production readiness: ML Test Score {decision.readiness_overall:g}", anchor=False)
    st.caption(f"{score_band(decision.readiness_overall).capitalize()}. Four areas modelled on Google's ML Test Score "
               "(Breck et al., 2017); each check scores 0, ½ (by hand, documented) or 1 (automated); the overall "
               "score is the lowest area.")
    per_area = {a: sum(1 for c in CHECKS if c.area == a) for a in AREAS}
    st.plotly_chart(decision_charts.readiness_bars(decision.readiness_areas, per_area), width="stretch",
                    key=f"{key}_readiness")
    with st.expander("Every check and its evidence", icon=":material/checklist:"):
        table(pd.DataFrame([{"area": r.area, "score": r.score, "check": r.text, "evidence": r.evidence}
                            for r in decision.readiness]),
              column_config={"score": st.column_config.NumberColumn(format="%.1f", width="small"),
                             "check": st.column_config.TextColumn(width="large"),
                             "evidence": st.column_config.TextColumn(width="large")})


def criteria_preview(criteria, money_baselines: dict[str, float | None]) -> str:
    """The project's criteria as a list, with the money they are measured against."""
    lines = [f"- {md(c.describe())}" + (f" — *{md(c.description)}*" if c.description else "") for c in criteria]
    known = {k: v for k, v in money_baselines.items() if v is not None}
    if known:
        lines.append("\nMoney baselines: " + ", ".join(
            f"{k.replace('_', ' ')} {fmt.yen(v)}" for k, v in known.items()))
    return "\n".join(lines)


def online_preview(evidence: OnlineEvidence, online_criteria: int) -> str:
    """What the decision about to be taken will read of the pilot, for the evaluation form."""
    if evidence.status == READ:
        text = f"pilot read out — {pilot.pilot_sentence(evidence)}."
        return f"**Online evaluation:** {md(text)} Its estimates go into the decision."
    where = (f"pilot designed, not read out yet — {pilot.pilot_sentence(evidence)}." if evidence.status == DESIGNED
             else "no pilot designed yet.")
    wait = (f" The {online_criteria} online criteri{'on' if online_criteria == 1 else 'a'} will be *not yet "
            "evaluated*, and the verdict at most a conditional GO." if online_criteria else
            " No criterion names an online measure: the decision rests on the offline evidence.")
    return f"**Online evaluation:** {md(where)}{wait}"


def ladder_evidence(decision: Decision) -> str:
    """What the project's latest decision measured on each rung: best WAPE and money."""
    savings = {r["policy"]: r.get("yearly_savings") for r in decision.money}
    best: dict[str, dict] = {}
    for row in sorted(decision.leaderboard, key=lambda r: r.get("wape") if r.get("wape") is not None else 9e9):
        if row.get("rung") and row["rung"] != "current practice":
            best.setdefault(row["rung"], row)
    lines = [f"- **{md(rung)}**: best {md(fmt.model_name(row['model']))}, WAPE {fmt.pct(row.get('wape'))}, saves "
             f"{fmt.yen(savings.get(row['model']))} a year" for rung, row in best.items()]
    return (f"**Measured by the decision of {decision.created_at.replace('T', ' ')}** ({decision.verdict}, run "
            f"*{md(decision.run_name)}*): the ladder stopped at **{md(fmt.model_name(decision.model))}**.\n" + "\n".join(lines))


HEADS = "report_decision_heads"  # session cache: decision id → (model for people, run name, online status)


def decision_heads(history: Sequence[DecisionInfo], load: Callable[[str], Decision]) -> list[dict]:
    """One record per decision of ``history`` (newest first) for the list at the bottom
    of the report: ``decided`` (datetime), ``verdict``, ``model`` (its name for people),
    ``run`` (the run's name), ``online`` (when it was taken: before any pilot, before
    the pilot (designed), after the pilot; blank for a snapshot older than the online
    evidence), ``decision`` (its id) and ``label`` (for the "Show decision" box:
    ``2025-05-01 10:00 · GO · ETS · run "two stores" · after the pilot · 1a2b3c4d5e6f``).
    Model, run and online status come from each snapshot, read once with ``load`` and
    kept for the session (a snapshot is immutable); one this version cannot read shows
    them blank."""
    cache: dict[str, tuple[str, str, str]] = st.session_state.setdefault(HEADS, {})
    rows = []
    for info in history:
        if len(cache.get(info.decision_id, ())) != 3:
            try:
                snapshot = load(info.decision_id)
                online = ("" if snapshot.online is None else
                          pilot.STATUS_SHORT.get(snapshot.online_evidence.status, ""))
                cache[info.decision_id] = (fmt.model_name(snapshot.model), snapshot.run_name, online)
            except MitoshiError:
                cache[info.decision_id] = ("", "", "")
        model, run, online = cache[info.decision_id]
        parts = [f"{info.created_at:%Y-%m-%d %H:%M}", info.verdict, model, f"run “{run}”" if run else "", online,
                 info.decision_id]
        rows.append({"decided": info.created_at, "verdict": info.verdict, "model": model, "run": run,
                     "online": online, "decision": info.decision_id, "label": " · ".join(p for p in parts if p)})
    return rows
