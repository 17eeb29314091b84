"""`make bench`: run every benchmark, then print one table (figure, goal, measured, met, baseline from the same run)
and write bench/out/results.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SCRIPTS = ("ingest", "push_orders", "abnormal_page", "drain_shipments", "drain_stock")


def main() -> None:
    figures = []
    for name in SCRIPTS:
        print(f"== {name}", flush=True)
        (OUT / f"{name}.json").unlink(missing_ok=True)
        subprocess.run([sys.executable, str(HERE / f"{name}.py")], cwd=HERE, check=True)
        figures += json.loads((OUT / f"{name}.json").read_text())["figures"]
    (OUT / "results.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))
    width = max(len(row["figure"]) for row in figures)
    print(f"\n{'figure':{width}s} | goal | measured | met | baseline (same run)")
    for row in figures:
        print(
            f"{row['figure']:{width}s} | {row['goal']} | {row['measured']} | {'yes' if row['met'] else 'NO'} | "
            f"{row['baseline']}"
        )


if __name__ == "__main__":
    main()
