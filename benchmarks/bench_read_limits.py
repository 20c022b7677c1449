"""How long and how much memory read_table takes to refuse files that unpack far past
the size limit, each measured in a fresh process (peak RSS is per process).

    .venv/bin/python benchmarks/bench_read_limits.py

Cases, written to a temporary folder (not timed):
  gzip   a 1.2 MB .csv.gz that inflates to 600 MB (the limit is 200 MB)
  xlsx   a 5 KB workbook with one stray value at XFD1048576 (a 17-billion-cell grid)
  parquet a 0.1 MB Parquet file of 100 million rows of one constant
"""

from __future__ import annotations

import gzip
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_gzip(path: Path) -> None:
    row = b"s1,2025-01-06,1\n" * 65536  # 1 MiB
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"store,date,units\n")
        for _ in range(600):
            out.write(row)


def write_xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["store", "units"])
    book.active.append(["A", 1])
    book.active["XFD1048576"] = "x"
    book.save(path)


def write_parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    column = pa.chunked_array([pa.array([1] * 1_000_000, pa.int64())] * 100)
    pq.write_table(pa.table({"units": column}), path, row_group_size=10_000_000)


CASES = {"gzip": ("bomb.csv.gz", write_gzip), "xlsx": ("far.xlsx", write_xlsx),
         "parquet": ("rows.parquet", write_parquet)}


def measure(path: Path) -> None:
    """Run in the child: read the file once and print the figures."""
    from core.data.reading import read_table
    from core.errors import ImportProblemError

    data = path.read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    try:
        raw = read_table(data, path.name)
        outcome = f"read {raw.frame.shape}"
    except ImportProblemError as error:
        outcome = f"refused: {error}"
    seconds = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    print(f"{path.name} ({len(data) / 1024 / 1024:.2f} MB): {seconds:.2f} s, peak memory +{grown:,.0f} MB | {outcome}")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, write in CASES.values():
            path = Path(tmp) / name
            write(path)
            subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
