"""The dashboard: the page for 10 budgets, a chart through the API, and what the web part adds to cold starts.

1. ``GET /`` signed in, through ``lib.api.handle``, for 10 month budgets of 3 groups each with 21 days
   of hourly points stored (a chart per budget, inline SVG); median of ``REPEATS`` in ms and the page's
   bytes. Baseline: ``GET /status`` (the JSON the page replaces) on the same state.
2. ``GET /charts/<budget>.svg`` and ``.png`` through the handler (the PNG base64 in the integrated response).
3. Cold start: ``import handlers.timer`` loads no ``lib.web`` and no ``lib.charts`` module (goal 0);
   ``import handlers.api`` loads no ``lib.charts`` module (drawn only where a chart is asked for), and
   how long a fresh interpreter takes to import it, with the ``lib.web`` modules it loads, and what the
   first page then imports on top of the modules the App's build has already loaded.

Run: ``python -m bench dashboard``.
"""

from __future__ import annotations

import functools
import statistics
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.timing import median_ms

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 7
IMPORT_REPEATS = 5
BUDGETS = 10
GROUPS = 3
TOKEN = "bench-dashboard-token-0123456789"  # noqa: S105 - a local benchmark token
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)


def _config_text() -> str:
    budgets = "\n".join(
        f"  - {{name: traffic-{i:02d}, source: teo, metric: acc_flux, group_by: [zone-id], limit: 10TB, "
        f"thresholds: [50, 80, 100], forecast: true, channels: [ops]}}"
        for i in range(BUDGETS)
    )
    channels = "channels: {ops: {type: webhook, url: 'https://hooks.example.com/budget'}}"
    return f"timezone: Asia/Shanghai\nlanguage: zh\n{channels}\nbudgets:\n{budgets}\n"


def _app() -> Any:
    from lib.app.runtime import App
    from lib.config.loader import parse_config
    from lib.model import Evaluation, Period, Point, group_key
    from lib.state.memory import MemoryStore
    from lib.state.repo import StateRepository

    config = parse_config(_config_text(), environ={})
    repo = StateRepository(MemoryStore())
    start = datetime(2026, 10, 31, 16, tzinfo=timezone.utc)
    period = Period(start, datetime(2026, 11, 30, 16, tzinfo=timezone.utc))
    evaluations = []
    for b in config.budgets:
        for g in range(GROUPS):
            label = f"zone-id=zone-{g}"
            points = [Point(start + timedelta(hours=h), Decimal(4 + (h * 7 + g) % 9) * 10**9) for h in range(21 * 24)]
            repo.series.save(b.name, label, points)
            value = sum((p.value for p in points), Decimal(0))
            evaluations.append(
                Evaluation(
                    b.name, group_key({"zone-id": f"zone-{g}"}), period, value, "B", Decimal(10**13),
                    float(value / 10**11), value * Decimal("1.4"), None, "ok",
                ).to_dict()
            )  # fmt: skip
    repo.series.flush()
    repo.runs.record({"run_id": "bench", "at": NOW.isoformat(), "trigger": "timer", "evaluations": evaluations})
    return App(
        config=config,
        store=repo.store,
        repo=repo,
        client=None,  # type: ignore[arg-type]
        session=None,  # type: ignore[arg-type]
        clock=lambda: NOW,
        environ={"BUDGET_API_TOKEN": TOKEN},
    )


def _event(method: str, path: str, headers: dict[str, str], body: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"headers": {"host": "127.0.0.1", **headers}, "httpMethod": method, "path": path}
    if body is not None:
        event["body"] = body
    return event


_median_ms = functools.partial(median_ms, repeats=REPEATS)


def _page_rows() -> list[dict[str, Any]]:
    from lib.api import handle, set_app

    set_app(_app())
    try:
        form = {"content-type": "application/x-www-form-urlencoded"}
        login = handle(_event("POST", "/login", form, f"token={TOKEN}"), {})
        cookie = {"cookie": login["headers"]["Set-Cookie"].split(";")[0]}
        bearer = {"authorization": f"Bearer {TOKEN}"}
        page = handle(_event("GET", "/", cookie), {})
        if page["statusCode"] != 200 or 'action="/logout"' not in page["body"]:
            raise RuntimeError(f"the signed-in dashboard answered {page['statusCode']}")
        status_ms = _median_ms(lambda: handle(_event("GET", "/status", bearer), {}))
        page_ms = _median_ms(lambda: handle(_event("GET", "/", cookie), {}))
        svg_ms = _median_ms(lambda: handle(_event("GET", "/charts/traffic-00.svg", bearer), {}))
        png_ms = _median_ms(lambda: handle(_event("GET", "/charts/traffic-00.png", bearer), {}), repeats=5)
        png = handle(_event("GET", "/charts/traffic-00.png", bearer), {})
    finally:
        set_app(None)
    return [
        {"name": f"GET /status ({BUDGETS} budgets x {GROUPS} groups)", "value": status_ms, "unit": "ms"},
        {
            "name": f"GET / signed in ({BUDGETS} budgets, inline SVG charts)",
            "value": page_ms,
            "unit": "ms",
            "baseline": status_ms,
            "ratio": page_ms / status_ms,
        },
        {"name": "dashboard page size", "value": len(page["body"].encode("utf-8")), "unit": "B"},
        {"name": "GET /charts/<budget>.svg", "value": svg_ms, "unit": "ms"},
        {"name": "GET /charts/<budget>.png", "value": png_ms, "unit": "ms"},
        {"name": "chart PNG body (base64)", "value": len(png["body"]), "unit": "B", "goal": "<= 2 MB decoded"}
        | {"ok": len(png["body"]) * 3 // 4 <= 2 * 1024 * 1024},
    ]


def _child(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _import_ms(statement: str, setup: str = "pass") -> float:
    code = f"{setup}; import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    return statistics.median(float(_child(code)) for _ in range(IMPORT_REPEATS))


def _count(statement: str, prefix: str) -> int:
    return int(_child(f"import sys; {statement}; print(sum(m.startswith({prefix!r}) for m in sys.modules))"))


def _cold_rows() -> list[dict[str, Any]]:
    timer_web = _count("import handlers.timer", "lib.web")
    api_charts = _count("import handlers.api, lib.api.routes", "lib.charts")
    api_web = _count("import handlers.api, lib.api.routes", "lib.web")
    return [
        {
            "name": "lib.web modules loaded by import handlers.timer",
            "value": timer_web,
            "goal": "0",
            "ok": timer_web == 0,
        },
        {
            "name": "lib.charts modules loaded by the API's import",
            "value": api_charts,
            "goal": "0",
            "ok": api_charts == 0,
        },
        {"name": "lib.web modules loaded by the API's import", "value": api_web},
        {
            "name": "cold import handlers.api + lib.api.routes",
            "value": _import_ms("import handlers.api, lib.api.routes"),
        }
        | {"unit": "ms"},
        {
            "name": "then import lib.web.page (the App's modules already loaded)",
            "value": _import_ms(
                "import lib.web.page", setup="import lib.app.runtime, lib.config.loader, lib.state.repo"
            ),
            "unit": "ms",
        },
    ]


def run() -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    return _page_rows() + _cold_rows()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import table

    print(table(run()))
