"""The gettext catalogs: extraction from the source, update of the Japanese catalogs, and
the checks CI runs. ``make i18n`` runs ``python -m core.i18n.catalogs update``;
``python -m core.i18n.catalogs check`` fails (exit 1) on an untranslated, fuzzy or
out-of-date message, a translation whose ``{fields}`` differ from its English, or one
English text translated two ways in two domains.

Each domain is the catalog of one part of the journey (``DOMAINS``): its own ``.pot``
(the English, extracted) and ``ja/LC_MESSAGES/<domain>.po`` (the Japanese) in
``core/i18n/locale``. Every Python file of the app belongs to exactly one domain.

Extraction and catalog handling are Babel's (``babel.messages.extract``,
``babel.messages.catalog.Catalog.update``, ``babel.messages.pofile``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po

from core.i18n import LOCALE_DIR, fields

ROOT = LOCALE_DIR.parents[2]
TARGET = "ja"
# Fixed header dates: an update that changes no message changes no byte of a catalog.
STAMP = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)

# Where each file's words live: the first domain whose prefix matches a file's path wins.
DOMAINS: dict[str, tuple[str, ...]] = {
    "data": ("core/data/", "pages/data.py", "pages/import.py", "ui/data.py"),
    "planning": ("core/planning/", "pages/projects.py", "pages/problem.py", "pages/effort-impact.py",
                 "pages/poc-plan.py", "ui/planning_"),
    "backtest": ("core/forecast/", "core/backtest/", "pages/backtest.py", "pages/experiments.py",
                 "ui/backtest.py", "ui/external.py"),
    "money": ("core/money/", "core/handoff/", "pages/money.py", "pages/handoff.py", "ui/money.py",
              "ui/handoff.py"),
    "pilot": ("core/pilot/", "pages/pilot.py", "pages/monitoring.py", "ui/pilot.py"),
    "report": ("core/decision/pdf", "core/decision/charts.py", "core/reports/", "core/paper/", "pages/report.py",
               "ui/decision.py", "ui/reports.py"),
    "decision": ("core/decision/",),
    "shared": ("app.py", "pages/", "ui/", "core/"),
}
SOURCES = ("app.py", "pages", "ui", "core")
KEYWORDS = {**DEFAULT_KEYWORDS, "M_": None, "nM_": (1, 2), "N_": None}
COMMENT_TAGS = ("TRANSLATORS:",)


def source_files() -> list[Path]:
    """The app's Python files, sorted; the catalogs package itself has no words."""
    files: list[Path] = []
    for name in SOURCES:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts and f.name != "catalogs.py"]


def domain_of(path: Path) -> str:
    relative = path.relative_to(ROOT).as_posix()
    for domain, prefixes in DOMAINS.items():
        if any(relative == p or relative.startswith(p) for p in prefixes):
            return domain
    raise ValueError(f"{relative} belongs to no catalog domain: add it to core.i18n.catalogs.DOMAINS")


def extract(domain: str) -> Catalog:
    """The English catalog of ``domain`` as the source has it now."""
    catalog = Catalog(project="Mitoshi", charset="utf-8", fuzzy=False, creation_date=STAMP, revision_date=STAMP)
    for path in source_files():
        if domain_of(path) != domain:
            continue
        relative = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in extract_from_file(
                "python", str(path), keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True):
            if not message or (isinstance(message, tuple) and not message[0]):
                continue
            catalog.add(message, None, [(relative, lineno)], auto_comments=comments, context=context,
                        flags=("python-brace-format",) if fields(message[0] if isinstance(message, tuple)
                                                              else message) else ())
    return catalog


def _paths(domain: str) -> tuple[Path, Path]:
    return LOCALE_DIR / f"{domain}.pot", LOCALE_DIR / TARGET / "LC_MESSAGES" / f"{domain}.po"


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=TARGET)


def _write(catalog: Catalog, path: Path, **options) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, omit_header=False, sort_output=False, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = buffer.getvalue()
    if not path.exists() or path.read_bytes() != text:
        path.write_bytes(text)


def update(domains: Iterable[str] = DOMAINS) -> dict[str, int]:
    """Extract each domain's English into its ``.pot`` and bring its Japanese ``.po`` up to
    date (new messages added empty, gone ones dropped, none marked fuzzy by guessing).
    Returns the number of messages per domain."""
    counts = {}
    for domain in domains:
        template = extract(domain)
        pot, po = _paths(domain)
        _write(template, pot, ignore_obsolete=True)
        catalog = _read(po) if po.exists() else Catalog(locale=TARGET, project="Mitoshi", fuzzy=False,
                                                                    creation_date=STAMP, revision_date=STAMP)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        catalog.creation_date = catalog.revision_date = STAMP
        _write(catalog, po, ignore_obsolete=True)
        counts[domain] = len([m for m in template if m.id])
    return counts


def problems() -> list[str]:
    """Everything that keeps a catalog from being complete and right, one line each."""
    found: list[str] = []
    seen: dict[tuple[str | None, str], tuple[str, object]] = {}
    for domain in DOMAINS:
        pot, po = _paths(domain)
        current = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in extract(domain) if m.id}
        if not po.exists():
            found.append(f"{domain}: no Japanese catalog {po.relative_to(ROOT)}: run make i18n")
            continue
        catalog = _read(po)
        stored = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
        for key in sorted(current - set(stored), key=str):
            found.append(f"{domain}: not in the catalog (run make i18n, then translate): {key[1]!r}")
        for key in sorted(set(stored) - current, key=str):
            found.append(f"{domain}: in the catalog but no longer in the source (run make i18n): {key[1]!r}")
        for key, message in stored.items():
            if key not in current:
                continue
            english = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy:
                found.append(f"{domain}: fuzzy (check the translation, then drop the flag): {key[1]!r}")
            if not all(strings):
                found.append(f"{domain}: no Japanese translation: {key[1]!r}")
                continue
            wanted = set().union(*(fields(e) for e in english))
            for text in strings:
                if fields(text) != wanted:
                    found.append(f"{domain}: the translation's fields {sorted(fields(text))} differ from the "
                                 f"English {sorted(wanted)}: {key[1]!r}")
            if key in seen and seen[key][1] != strings:
                found.append(f"{domain}: translated otherwise than in {seen[key][0]}: {key[1]!r}")
            seen.setdefault(key, (domain, strings))
    return found


def counts() -> dict[str, int]:
    """Messages per domain in the Japanese catalogs, and how many are translated."""
    out = {}
    for domain in DOMAINS:
        _pot, po = _paths(domain)
        if po.exists():
            catalog = _read(po)
            out[domain] = sum(1 for m in catalog if m.id and not m.fuzzy and all(
                m.string if isinstance(m.string, tuple) else (m.string,)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.i18n.catalogs", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "check", "count"))
    parser.add_argument("--domain", action="append", help="only this domain (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "update":
        for domain, n in update(args.domain or DOMAINS).items():
            print(f"{domain}: {n} messages")
        return 0
    if args.command == "count":
        total = counts()
        for domain, n in total.items():
            print(f"{domain}: {n} translated")
        print(f"total: {sum(total.values())} translated")
        return 0
    found = problems()
    for line in found:
        print(line)
    print(f"{len(found)} problem(s)" if found else "The catalogs are complete.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
