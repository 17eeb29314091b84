"""Where each benchmark leaves its figures: bench/out/<name>.json, read by run_all.py into one table."""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def figure(name: str, goal: str, measured: float, unit: str, met: bool, baseline: str) -> dict:
    return {
        "figure": name,
        "goal": goal,
        "measured": f"{measured:,.1f} {unit}" if measured < 100 else f"{measured:,.0f} {unit}",
        "value": measured,
        "met": met,
        "baseline": baseline,
    }


def save(name: str, figures: list[dict], details: dict | None = None) -> None:
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.json").write_text(
        json.dumps({"figures": figures, "details": details or {}}, indent=1, ensure_ascii=False)
    )
    for row in figures:
        print(
            f"  {row['figure']}: {row['measured']} (goal {row['goal']}; {'met' if row['met'] else 'NOT met'}); "
            f"baseline {row['baseline']}"
        )
