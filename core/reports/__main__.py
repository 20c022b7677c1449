"""Make a report from the command line, as the pages do:

    .venv/bin/python -m core.reports report KIND --project NAME_OR_ID --out FILE.pdf \
        [--run RUN_ID ...] [--language ja|en] [--warehouse FILE]
    .venv/bin/python -m core.reports list [--project NAME_OR_ID]

KIND is one of ``core.reports.kinds.KINDS`` (problem, …). The report is snapshotted now,
stored as the project's next version of that kind, and printed to FILE. Exit status 0 on
success, 2 with a message on stderr when something is missing or wrong."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import MitoshiError
from core.i18n import using
from core.warehouse.store import Warehouse


def _project_id(warehouse: Warehouse, name_or_id: str) -> str:
    """The project with id ``name_or_id``, or named so (case-insensitive), or the one project whose
    name starts with it ("AI Shop demand forecasting" for the example), as the pilot's command line
    finds it; ``SystemExit`` naming the projects otherwise."""
    from core.planning.store import find_project
    try:
        return find_project(warehouse, name_or_id).project_id
    except MitoshiError as error:
        raise SystemExit(f"error: {error}") from None


def _writable(out: Path) -> None:
    """Make sure ``out`` can be written before anything is stored: ``SystemExit`` saying why not."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = out.with_name(out.name + ".partial")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise SystemExit(f"error: cannot write {out}: {error.strerror or error}. Choose another --out.") from None


def main(argv: list[str] | None = None) -> int:
    from core.reports.kinds import KINDS
    parser = argparse.ArgumentParser(prog="python -m core.reports", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("report", help="make a report and print it as a PDF")
    make.add_argument("kind", choices=sorted(KINDS))
    make.add_argument("--project", required=True, help="the project's name or id")
    make.add_argument("--out", required=True, type=Path, help="the PDF to write")
    make.add_argument("--run", action="append", default=[], help="a backtest run (repeat for several)")
    make.add_argument("--language", choices=("en", "ja"), default="en")
    make.add_argument("--warehouse", type=Path, default=None, help="the warehouse file (default: MITOSHI_WAREHOUSE "
                                                                    "or data/mitoshi.duckdb)")
    listing = commands.add_parser("list", help="list the stored reports (of one project with --project)")
    listing.add_argument("--project", default=None)
    listing.add_argument("--warehouse", type=Path, default=None)
    args = parser.parse_args(argv)
    from core.paper.store import list_reports
    from core.reports.make import make_report, report_pdf
    try:
        warehouse = Warehouse(args.warehouse)
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "list":
            from core.planning import store as planning
            chosen = _project_id(warehouse, args.project) if args.project else None
            for project in planning.list_projects(warehouse):
                if chosen not in (None, project.project_id):
                    continue
                print(project.name)
                for stored in list_reports(warehouse, project.project_id):
                    print(f"  {stored.created_at:%Y-%m-%d %H:%M}  {stored.kind:14s} v{stored.version:<3d} "
                          f"{stored.report_id}")
            return 0
        project_id = _project_id(warehouse, args.project)
        _writable(args.out)
        options = {"runs": args.run} if args.run else {}
        with using(args.language):
            stored = make_report(warehouse, args.kind, project_id, options)
            pdf = report_pdf(stored)
        partial = args.out.with_name(args.out.name + ".partial")
        try:
            partial.write_bytes(pdf)
            partial.replace(args.out)  # never a half-written PDF under the name asked for
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise SystemExit(f"error: cannot write {args.out}: {error.strerror or error}. The report is stored as "
                             f"{stored.kind} v{stored.version} ({stored.report_id}).") from None
        print(f"{args.out}: {stored.kind} report v{stored.version} ({stored.report_id}), {len(pdf) / 1024:.0f} KiB")
        return 0
    except MitoshiError as error:
        with using(args.language):
            print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        warehouse.close()


if __name__ == "__main__":
    sys.exit(main())
