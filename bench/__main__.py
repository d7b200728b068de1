"""``python -m bench [NAME ...]``: run every ``bench/bench_*.py`` (or the named ones) and print one table.

Each module's ``run()`` returns rows ``{"name", "value", "unit", "baseline", "ratio", "goal"}``; the
baseline is measured in the same run, so the ratios compare like with like on whatever machine runs this.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _modules(names: list[str]) -> list[str]:
    found = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if not names:
        return found
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in names]
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(found)}")
    return wanted


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    head = ("benchmark", "measure", "value", "unit", "baseline", "ratio", "goal", "ok")
    lines = [head]
    for r in rows:
        ok = r.get("ok")
        lines.append(
            (
                r.get("bench", ""),
                r["name"],
                _cell(r.get("value")),
                r.get("unit", ""),
                _cell(r.get("baseline")),
                "-" if r.get("ratio") is None else f"{r['ratio']:.2f}x",
                r.get("goal") or "-",
                "-" if ok is None else ("yes" if ok else "NO"),
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: list[str]) -> int:
    as_json = "--json" in argv
    names = [a for a in argv if not a.startswith("--")]
    rows: list[dict[str, Any]] = []
    failures = 0
    for name in _modules(names):
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            for row in module.run():
                rows.append({"bench": name.removeprefix("bench_"), **row})
        except Exception:  # a broken benchmark is reported and the others still run
            failures += 1
            traceback.print_exc()
            rows.append({"bench": name.removeprefix("bench_"), "name": "FAILED", "ok": False})
        print(f"  {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    print(json.dumps(rows, indent=2, default=str) if as_json else table(rows))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
