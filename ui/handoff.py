"""Hand-off in the browser: the ordering rule a batch's order quantities follow — the
GO / NO-GO decision's by default, else the project's money settings for the run's dataset."""

from __future__ import annotations

import streamlit as st

from core.backtest import store as runs
from core.decision.verdict import Decision
from core.money import store as settings
from core import fmt
from core.money.impact import NORMAL, ORDERING_RULES, QUANTILE, rule_words
from core.text import md
from ui.money import RULE_CHOICES, RULE_HELP, RULE_LABEL
from ui.state import current_project, get_warehouse


def default_rule(decision: Decision | None, run: runs.RunInfo) -> tuple[str, str]:
    """The rule to publish with and why: the decision's on this run where there is one,
    else the project's money settings for the run's dataset, else the normal safety stock."""
    if decision is not None:
        return decision.ordering_rule, "the GO / NO-GO decision on this run"
    warehouse = get_warehouse()
    project = current_project(warehouse)
    stored = settings.load_impact_settings(warehouse, project.project_id if project else None, run.dataset_id)
    if stored is not None:
        return stored.ordering_rule, "the project's money settings"
    return NORMAL, "the default"


def decision_note(decision: Decision, alias: str | None, publishable: bool) -> str:
    """The banner over the Hand-off page, in Markdown: the decision taken on the run, and
    whether the batch about to be published records it — only when ``alias`` (the model
    to publish) is the decision's model. ``publishable``: whether Mitoshi can publish the
    decision's model (``core.handoff.batch.unpublishable_reason`` is None; the page says
    why not under the picker)."""
    chosen = md(fmt.model_name(decision.model))
    note = (f"The GO / NO-GO decision of {decision.created_at.replace('T', ' ')} on this run "
            f"({md(decision.project_name)}) is **{decision.verdict}** for **{chosen}**")
    if alias == decision.model:
        return note + "; publishing it records the decision with the batch."
    instead = (f"You are publishing **{md(fmt.model_name(alias))}** instead: the batch will not record the decision."
               if alias is not None else "Nothing else is offered: no batch can record the decision.")
    if not publishable:
        return f"{note}, which Mitoshi cannot publish. {instead}"
    return f"{note}. {instead} Choose {chosen} to record it."


def orders_label(rule: str) -> str:
    """The order-quantity toggle's label for the ordering rule (``NORMAL`` or ``QUANTILE``)."""
    return ("Order quantities (the model's quantile)" if rule == QUANTILE else
            "Order quantities (forecast + safety stock)")


def current_rule(decision: Decision | None, run: runs.RunInfo) -> str:
    """The rule the order quantities follow now: the radio's choice once made, else its
    default (``default_rule``) — read before the radio is drawn, for the toggle above it."""
    return st.session_state.get(f"handoff_rule_{run.run_id}") or default_rule(decision, run)[0]


def ordering_rule_choice(decision: Decision | None, run: runs.RunInfo, disabled: bool) -> str:
    """The radio choosing how order quantities are sized, pre-set to ``default_rule`` and
    saying where that default comes from; returns ``NORMAL`` or ``QUANTILE``."""
    rule, source = default_rule(decision, run)
    chosen = st.radio(RULE_LABEL, list(ORDERING_RULES), index=list(ORDERING_RULES).index(rule),
                      format_func=RULE_CHOICES.get, key=f"handoff_rule_{run.run_id}", disabled=disabled,
                      help=RULE_HELP)
    if not disabled:
        followed = "follows" if chosen == rule else "differs from"
        st.caption(f":material/rule: This {followed} {md(source)}: order up to {md(rule_words(rule))}.")
    return chosen


def batch_rule(model_params: dict) -> str | None:
    """The rule a published batch's order quantities follow, in words (None: it has none;
    a batch published before the rule was kept ordered at forecast + z × RMSE)."""
    if not isinstance(model_params, dict) or "ordering_rule" not in model_params:
        return rule_words(NORMAL)
    rule = model_params["ordering_rule"]
    return None if rule is None else rule_words(rule)
