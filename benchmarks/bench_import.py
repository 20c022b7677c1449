"""Time the import path on real files, the way a user would bring them.

    .venv/bin/python benchmarks/bench_import.py FILE [FILE ...]

Each file is read, mapped with the suggested roles, validated and stored in a fresh
temporary warehouse; the script prints the seconds of each step and what was stored.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data.importer import import_table, read_table, suggest_mapping, validate  # noqa: E402
from core.errors import MitoshiError  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(Path(tmp) / "bench.duckdb")
        for path in args.files:
            try:
                t0 = time.perf_counter()
                raw = read_table(path.read_bytes(), path.name)
                t1 = time.perf_counter()
                mapping = suggest_mapping(raw.frame, raw.decimal_comma)
                report = validate(raw, mapping)
                t2 = time.perf_counter()
                dataset = import_table(warehouse, raw, mapping)
                t3 = time.perf_counter()
            except MitoshiError as error:
                print(f"{path.name}: {error}")
                continue
            print(f"{path.name}: {dataset.n_series:,} {dataset.freq.label} series, {dataset.n_rows:,} rows | "
                  f"read {t1 - t0:.2f} s, map+validate {t2 - t1:.2f} s, import (validate+store) {t3 - t2:.2f} s, "
                  f"total {t3 - t0:.2f} s | keys {mapping.keys}, attributes {mapping.attributes}"
                  + (f" | notes {report.notes}" if report.notes else ""))
        warehouse.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
