"""Hand-off in the browser: the ordering rule a batch's order quantities follow — the
GO / NO-GO decision's by default, else the project's money settings for the run's dataset."""

from __future__ import annotations

import streamlit as st

from core.backtest import store as runs
from core.decision.verdict import Decision
from core.money import store as settings
from core.money.impact import NORMAL, ORDERING_RULES, rule_words
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
