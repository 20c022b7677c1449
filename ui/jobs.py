"""Jobs on the pages: the runner of the app's warehouse, a job's live progress with its
Cancel button, and the list of the warehouse's jobs.

The runner (``core.jobs``) lives as long as the app's server, not as a browser session: a
reload or a closed tab finds the job where it is. A page watches the jobs it started and
the ones running when it was opened; when one finishes, the page is drawn again once and
says how it ended.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st

from core import fmt
from core.backtest.job import BACKTEST
from core.handoff.job import PUBLISH
from core.i18n import N_, _, gettext, render
from core.jobs import Job, JobRunner, JobState
from core.text import md
from core.warehouse import warehouse_path
from ui.state import _open, get_warehouse, table

STATE_NAMES = {JobState.QUEUED: N_("queued"), JobState.RUNNING: N_("running"), JobState.DONE: N_("done"),
               JobState.FAILED: N_("failed"), JobState.CANCELLED: N_("cancelled")}
POLL_SECONDS = 1.0


@st.cache_resource(show_spinner=False)
def _runner(path: str) -> JobRunner:
    return JobRunner(_open(path), [BACKTEST, PUBLISH])


def get_runner() -> JobRunner:
    """The runner of the app's warehouse: one per server, shared by every session."""
    get_warehouse()  # opened (and the demo made) with its spinner first
    return _runner(str(warehouse_path()))


def _watched(kind: str) -> set[str]:
    return st.session_state.setdefault(f"jobs_watched_{kind}", set())


def watch(kind: str, job_id: str) -> None:
    """Follow ``job_id``, started in this session, on this page until it ends."""
    _watched(kind).add(job_id)
    st.session_state.setdefault(f"jobs_own_{kind}", set()).add(job_id)
    st.session_state.pop(f"jobs_outcome_{kind}", None)


def started_here(kind: str, job: Job) -> bool:
    """Whether this session started ``job`` (a job found running after a reload, or started
    by another user, is followed too, but was not)."""
    return job.job_id in st.session_state.get(f"jobs_own_{kind}", set())


def _elapsed(job: Job) -> str:
    seconds = job.seconds(datetime.now())
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _live_job(runner: JobRunner, job: Job) -> None:
    with st.container(border=True):
        head, button = st.columns([5, 1], vertical_alignment="center")
        if job.state is JobState.QUEUED:
            head.markdown(_(":material/schedule: **{title}** — queued: it starts when the job before it has finished."
                            ).format(
                title=md(render(job.title))))
        else:
            head.markdown(_(":material/play_circle: **{title}** — running for {elapsed}").format(
                title=md(render(job.title)), elapsed=_elapsed(job)))
            st.progress(min(max(job.done, 0.0), 1.0), text=md(render(job.message)) or _("Starting…"))
        if button.button(_("Cancel"), key=f"job_cancel_{job.job_id}", icon=":material/cancel:",
                         help=_("Stops the job; nothing of it is stored.")):
            if runner.cancel(job.job_id):
                st.toast(_("Cancelling…"), icon=":material/cancel:")
            else:
                st.toast(_("Too late to cancel: it has finished or is being stored."))


def live_jobs(kind: str, on_done: Callable[[Job], None]) -> None:
    """The running and queued jobs of ``kind`` with their progress and Cancel, refreshed
    every second while any runs. A watched job that ended is reported once (``outcome``)
    and ``on_done`` is called for one that is done; the whole page is then drawn again."""
    runner = get_runner()
    watched = _watched(kind)
    active_now = {j.job_id for j in runner.jobs(kind, limit=20) if j.active}
    watched |= active_now  # a reload finds its job again

    def draw() -> None:
        jobs = {j.job_id: j for j in runner.jobs(kind, limit=20)}
        ended = [jobs[j] for j in list(watched) if j in jobs and not jobs[j].active]
        for job in ended:
            watched.discard(job.job_id)
            st.session_state[f"jobs_outcome_{kind}"] = job.job_id
            if job.state is JobState.DONE:
                on_done(job)
        active = sorted((j for j in jobs.values() if j.active), key=lambda j: j.created_at)
        # One slot, always drawn first: a job that ended leaves at once, not when the page has been drawn again.
        slot = st.empty()
        if not active:
            slot.empty()
        else:
            with slot.container():
                for job in active:
                    _live_job(runner, job)
        if ended and _in_fragment():  # the page shows what the job made
            st.rerun(scope="app")

    st.fragment(draw, run_every=POLL_SECONDS if active_now else None)()


def any_active(kind: str) -> bool:
    """Whether a job of ``kind`` is queued or running."""
    return any(j.active for j in get_runner().jobs(kind, limit=20))


def _in_fragment() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)  # a run of fragments only, not of the whole page


def outcome(kind: str, done_text: Callable[[Job], str]) -> None:
    """How the last watched job of ``kind`` ended, until the next one starts: done (in
    ``done_text``'s words), failed with its reason, or cancelled."""
    job_id = st.session_state.get(f"jobs_outcome_{kind}")
    if not job_id:
        return
    try:
        job = get_runner().get(job_id)
    except Exception:  # deleted with its warehouse: nothing to say
        return
    if job.state is JobState.DONE:
        st.success(done_text(job), icon=":material/check_circle:")
    elif job.state is JobState.FAILED:
        st.error(md(render(job.message)), icon=":material/error:")
    elif job.state is JobState.CANCELLED:
        st.warning(_("The job was cancelled; nothing of it was stored."), icon=":material/cancel:")


def jobs_table(kind: str, limit: int = 20) -> pd.DataFrame:
    """The warehouse's jobs of ``kind``, newest first, as people read them."""
    rows = [{
        _("Job"): render(job.title), _("State"): gettext(STATE_NAMES[job.state]),
        _("Queued at"): f"{fmt.date(job.created_at)} {job.created_at:%H:%M}",
        _("Ran for"): _elapsed(job), _("Outcome"): "" if job.active else render(job.message),
    } for job in get_runner().jobs(kind, limit=limit)]
    return pd.DataFrame(rows)


def history(kind: str, title: str, empty: str) -> None:
    """An expander listing the warehouse's jobs of ``kind``, running and finished."""
    with st.expander(title):
        st.caption(_("Each job runs in a process of its own: it goes on when the page is reloaded or closed, one "
                     "job at a time; the others wait in the queue."))
        rows = jobs_table(kind)
        if rows.empty:
            st.caption(empty)
        else:
            table(rows)
