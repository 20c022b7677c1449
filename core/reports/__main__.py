"""Make a report from the command line, as the pages do:

    .venv/bin/python -m core.reports report KIND --project NAME_OR_ID --out FILE.pdf \
        [--run RUN_ID ...] [--language ja|en] [--warehouse FILE]
    .venv/bin/python -m core.reports list --project NAME_OR_ID

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
    from core.planning import store as planning
    for project in planning.list_projects(warehouse):
        if name_or_id in (project.project_id, project.name):
            return project.project_id
    names = ", ".join(f"'{p.name}'" for p in planning.list_projects(warehouse)) or "none"
    raise SystemExit(f"error: no project '{name_or_id}' in {warehouse.path} (projects: {names})")


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
    listing = commands.add_parser("list", help="list a project's stored reports")
    listing.add_argument("--project", required=True)
    listing.add_argument("--warehouse", type=Path, default=None)
    args = parser.parse_args(argv)
    from core.reports.make import make_report, report_pdf
    from core.paper.store import list_reports
    try:
        warehouse = Warehouse(args.warehouse)
    except MitoshiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        project_id = _project_id(warehouse, args.project)
        if args.command == "list":
            for stored in list_reports(warehouse, project_id):
                print(f"{stored.created_at:%Y-%m-%d %H:%M}  {stored.kind:10s} v{stored.version:<3d} {stored.report_id}")
            return 0
        options = {"runs": args.run} if args.run else {}
        with using(args.language):
            stored = make_report(warehouse, args.kind, project_id, options)
            pdf = report_pdf(stored)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        partial = args.out.with_name(args.out.name + ".partial")
        partial.write_bytes(pdf)
        partial.replace(args.out)  # never a half-written PDF under the name asked for
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
