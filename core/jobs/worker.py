"""The worker process of one job: ``python -m core.jobs.worker FOLDER``.

It reads ``FOLDER/job.json`` (the kind's ``target`` and the job's ``params``), runs the
kind's ``work``, and leaves one of two files for the runner: ``result.json`` (the result's
id and a message, with the results in ``FOLDER/out.duckdb``) or ``error.json`` (why it
stopped, as a message the user can act on). Progress goes to ``progress.json``. A file
named ``cancel`` in the folder, or the app's process going away, stops the work at its
next step.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from core.errors import MitoshiError
from core.i18n import M_, Msg, using
from core.jobs.runner import load_kind
from core.warehouse import stored_text

log = logging.getLogger("core.jobs.worker")


def _write(path: Path, payload: dict) -> None:
    """Atomically: the runner never reads half a file."""
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def main(folder: Path) -> int:
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    parent = os.getppid()
    last = [0.0]

    def report(done: float, message: str | Msg) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2 or done >= 1:  # the runner looks a few times a second
            last[0] = now
            _write(folder / "progress.json", {"done": round(float(done), 4), "message": stored_text(message)})

    def should_stop() -> bool:
        return (folder / "cancel").exists() or os.getppid() != parent

    try:
        with using(job.get("language", "en")):
            result, message = load_kind(job["target"]).work(job["params"], folder, report, should_stop)
    except MitoshiError as error:
        _write(folder / "error.json", {"message": stored_text(error.args[0] if len(error.args) == 1 else str(error))})
        return 2
    except Exception as error:  # a bug: said in words, the traceback in the log
        log.exception("The job failed")
        _write(folder / "error.json", {"message": stored_text(M_(
            "The job stopped on an unexpected error ({error}); nothing was stored.",
            error=f"{type(error).__name__}: {error}"))})
        return 3
    _write(folder / "result.json", {"result": result, "message": stored_text(message)})
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sys.exit(main(Path(sys.argv[1])))
