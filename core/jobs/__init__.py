"""Long work as jobs: a backtest (or any ``JobKind``) runs in a worker process, not in the
page's script, so that a reload, a closed tab or a second user cannot interrupt it.

The queue is a table of the warehouse (``jobs``): a job is queued, running, then done,
failed or cancelled. One ``JobRunner`` per warehouse (the app's one writer) starts one job
at a time in a fresh Python process (``python -m core.jobs.worker FOLDER``); the worker
reads what the runner prepared in the job's folder, reports its progress in a file, and
writes what it made into a DuckDB file of its own. The runner copies that file's tables
into the warehouse and marks the job done in one transaction: a job that dies or is
cancelled leaves nothing half-written.

The package is shared ground: it knows no step. A step offers a ``JobKind``
(``core.backtest.job``) and the app registers it with the runner.
"""

from core.jobs.runner import ACTIVE, FINISHED, Job, JobKind, JobRunner, JobState, Report

__all__ = ["ACTIVE", "FINISHED", "Job", "JobKind", "JobRunner", "JobState", "Report"]
