"""Hand-off in the browser: the ordering rule a batch's order quantities follow — the
GO / NO-GO decision's by default, else the project's money settings for the run's dataset."""

from __future__ import annotations

import streamlit as st

from core import fmt
from core.backtest import store as runs
from core.decision.verdict import Decision
from core.i18n import N_, _, render
from core.money import store as settings
from core.money.impact import NORMAL, ORDERING_RULES, QUANTILE, rule_words
from core.text import md
from ui.money import RULE_HELP, RULE_LABEL, rule_choice
from ui.state import current_project, get_warehouse

# Where the rule to publish with comes from (catalog msgids, said in the reader's language).
FROM_DECISION = N_("the GO / NO-GO decision on this run")
FROM_SETTINGS = N_("the project's money settings")
FROM_DEFAULT = N_("the default")
# A verdict as people read it: GO and NO-GO stay as they are in every language.
VERDICT_WORDS = {"GO": "GO", "CONDITIONAL GO": N_("CONDITIONAL GO"), "NO-GO": "NO-GO"}


def default_rule(decision: Decision | None, run: runs.RunInfo) -> tuple[str, str]:
    """The rule to publish with and why (an English catalog msgid: show it with gettext):
    the decision's on this run where there is one, else the project's money settings for
    the run's dataset, else the normal safety stock."""
    if decision is not None:
        return decision.ordering_rule, FROM_DECISION
    warehouse = get_warehouse()
    project = current_project(warehouse)
    stored = settings.load_impact_settings(warehouse, project.project_id if project else None, run.dataset_id)
    if stored is not None:
        return stored.ordering_rule, FROM_SETTINGS
    return NORMAL, FROM_DEFAULT


def verdict_words(verdict: str) -> str:
    """``GO``, ``CONDITIONAL GO`` (条件付きGO), ``NO-GO`` in the current language."""
    return _(VERDICT_WORDS.get(verdict, verdict))


def decision_note(decision: Decision, alias: str | None, publishable: bool) -> str:
    """The banner over the Hand-off page, in Markdown and the current language: the decision
    taken on the run, and whether the batch about to be published records it — only when
    ``alias`` (the model to publish) is the decision's model. ``publishable``: whether
    Mitoshi can publish the decision's model (``core.handoff.batch.unpublishable_reason``
    is None; the page says why not under the picker)."""
    day, _t, time = str(decision.created_at).partition("T")
    values = {"when": f"{fmt.date(day)} {time}".strip(), "project": md(decision.project_name),
              "verdict": verdict_words(decision.verdict), "model": md(fmt.model_name(decision.model))}
    if alias == decision.model:
        return _("The GO / NO-GO decision of {when} on this run ({project}) is **{verdict}** for **{model}**; "
                 "publishing it records the decision with the batch.").format(**values)
    instead = (_("You are publishing **{model}** instead: the batch will not record the decision.").format(
        model=md(fmt.model_name(alias))) if alias is not None else
        _("Nothing else is offered: no batch can record the decision."))
    if not publishable:
        return _("The GO / NO-GO decision of {when} on this run ({project}) is **{verdict}** for **{model}**, which "
                 "Mitoshi cannot publish. {instead}").format(instead=instead, **values)
    return _("The GO / NO-GO decision of {when} on this run ({project}) is **{verdict}** for **{model}**. {instead} "
             "Choose {model} to record it.").format(instead=instead, **values)


def orders_label(rule: str) -> str:
    """The order-quantity toggle's label for the ordering rule (``NORMAL`` or ``QUANTILE``)."""
    return (_("Order quantities (the model's quantile)") if rule == QUANTILE else
            _("Order quantities (forecast + safety stock)"))


def current_rule(decision: Decision | None, run: runs.RunInfo) -> str:
    """The rule the order quantities follow now: the radio's choice once made, else its
    default (``default_rule``) — read before the radio is drawn, for the toggle above it."""
    return st.session_state.get(f"handoff_rule_{run.run_id}") or default_rule(decision, run)[0]


def ordering_rule_choice(decision: Decision | None, run: runs.RunInfo, disabled: bool) -> str:
    """The radio choosing how order quantities are sized, pre-set to ``default_rule`` and
    saying where that default comes from; returns ``NORMAL`` or ``QUANTILE``."""
    rule, source = default_rule(decision, run)
    chosen = st.radio(_(RULE_LABEL), list(ORDERING_RULES), index=list(ORDERING_RULES).index(rule),
                      format_func=rule_choice, key=f"handoff_rule_{run.run_id}", disabled=disabled,
                      help=_(RULE_HELP))
    if not disabled:
        text = (_("This follows {source}: order up to {rule}.") if chosen == rule else
                _("This differs from {source}: order up to {rule}."))
        st.caption(":material/rule: " + text.format(source=md(_(source)), rule=md(rule_words(rule))))
    return chosen


def batch_rule(model_params: dict) -> str | None:
    """The rule a published batch's order quantities follow, in words in the current
    language (None: it has none; a batch published before the rule was kept ordered at
    forecast + z × RMSE)."""
    if not isinstance(model_params, dict) or "ordering_rule" not in model_params:
        return render(rule_words(NORMAL))
    rule = model_params["ordering_rule"]
    return None if rule is None else render(rule_words(rule))
