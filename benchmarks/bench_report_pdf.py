"""Time the GO / NO-GO PDF of a decision snapshot, as the report page's download does.

    .venv/bin/python benchmarks/bench_report_pdf.py [snapshot.json] [--repeat 3]

The first PDF is timed in this fresh process, so it includes importing fpdf2 and
matplotlib and loading the font (what the first download of a session costs); the
repeats show the warm cost. The target is under 10 seconds for the sample snapshot.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.decision.pdf import decision_pdf  # noqa: E402
from core.decision.verdict import Decision  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", nargs="?", default=str(ROOT / "tests" / "data" / "decision_sample.json"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    decision = Decision.from_json(Path(args.snapshot).read_text(encoding="utf-8"))

    start = time.perf_counter()
    pdf = decision_pdf(decision)
    first = time.perf_counter() - start
    warm = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        decision_pdf(decision)
        warm.append(time.perf_counter() - start)

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"decision {decision.decision_id} ({decision.verdict}): {pages} pages, {len(pdf) / 1024:,.0f} KiB")
    print(f"first PDF (cold imports): {first:.2f} s")
    if warm:
        print("warm: " + ", ".join(f"{t:.2f} s" for t in warm) + f"; median {statistics.median(warm):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
