"""Charts: drawing one chart as SVG and as PNG, what the charts add to the package, and the timer's cold start.

1. One chart of a month budget (hourly buckets for 20 days, 20 groups, limit, thresholds, forecast):
   the spec alone, spec + SVG, spec + PNG; median of ``REPEATS`` in this process, in ms. The PNG must
   stay within WeCom's image limit (2 MB before base64). The baseline of both drawings is the spec
   alone, so the ratio says what drawing adds.
2. The balance chart (30 days of readings, runway) the same way.
3. The code package (``lib/deploy/package.py``'s build, without wheels: the charts add no library, so
   the wheels are unchanged) zipped with and without ``lib/charts``: the bytes the charts add.
4. Cold start: ``import handlers.timer`` in a fresh interpreter loads no ``lib.charts`` module (goal 0),
   and the one-off import of what a drawing needs (``lib.charts.svg``, ``lib.charts.png``), for scale.
5. Charts in messages, on against off, each in a fresh interpreter against the sandbox (as SCF starts one):
   the timer's import + first invocation with the example budgets.yaml, and a whole 10-budget run
   (``bench_coldstart``'s), where the WeCom alerts carry their charts as image messages. "Off" is the
   same child with the chart drawing stubbed out (nothing to draw: no image is sent). Interleaved,
   fresh state each time, medians and the fastest of each; goal: on <= 1.1x off. The CPU time of the
   function's process (the sandbox and the robots run in this one) is the steadiest figure on a
   shared machine, where wall times swing with the other jobs. Twice: with byte code (``.pyc`` in a
   ``pycache_prefix`` written by an untimed run of each mode, as the package ships it), and from source
   (every module compiled in the child, as this worktree runs with PYTHONDONTWRITEBYTECODE).

Run: ``python -m bench.bench_charts`` (or ``python -m bench charts``).
"""

from __future__ import annotations

import functools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.timing import median_ms

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 9
IMPORT_REPEATS = 5
TZ = ZoneInfo("Asia/Shanghai")
MAX_PNG = 2 * 1024 * 1024


_median_ms = functools.partial(median_ms, repeats=REPEATS)


def _usage_spec() -> Any:
    from lib.charts.data import usage_chart
    from lib.model import Period, Point

    start = datetime(2026, 11, 1, tzinfo=TZ)
    period = Period(start, datetime(2026, 12, 1, tzinfo=TZ))
    first = start.astimezone(timezone.utc)
    series = {
        f"zone-id=zone-{g:02d}": [
            Point(first + timedelta(hours=h), Decimal((3 + (h * 7 + g) % 11) * 10**9 // (g + 1))) for h in range(480)
        ]
        for g in range(20)
    }
    return lambda language: usage_chart(
        "edgeone-traffic",
        period_kind="month",
        period=period,
        unit="B",
        series=series,
        now=start + timedelta(days=20, hours=1),
        tz=TZ,
        language=language,
        limit=Decimal(10**13),
        thresholds=(Decimal(50), Decimal(80), Decimal(100)),
    )


def _balance_spec() -> Any:
    from lib.charts.balance import balance_chart
    from lib.model import Point

    now = datetime(2026, 11, 30, 10, tzinfo=TZ)
    readings = [Point(now - timedelta(hours=6 * i), Decimal(20000 - 60 * (120 - i) + (i % 5) * 9)) for i in range(120)]
    return lambda language: balance_chart(
        "low-balance",
        unit="CNY",
        readings=readings,
        now=now,
        tz=TZ,
        language=language,
        below=Decimal(5000),
        runway=timedelta(days=7),
    )


def _drawing_rows(kind: str, make: Any) -> list[dict[str, Any]]:
    from lib.charts.png import render_png
    from lib.charts.scene import PHONE_WIDTH
    from lib.charts.svg import render_svg

    spec_ms = _median_ms(lambda: make("zh"))
    svg_ms = _median_ms(lambda: render_svg(make("zh")))
    png_ms = _median_ms(lambda: render_png(make("en")))
    phone_ms = _median_ms(lambda: render_png(make("en"), PHONE_WIDTH))
    message_ms = _median_ms(lambda: render_png(make("en"), PHONE_WIDTH, compact=True))
    png = render_png(make("en"))
    phone = render_png(make("en"), PHONE_WIDTH)
    message = render_png(make("en"), PHONE_WIDTH, compact=True)
    svg = render_svg(make("zh")).encode("utf-8")
    return [
        {"name": f"{kind}: chart spec", "value": spec_ms, "unit": "ms"},
        {"name": f"{kind}: spec + SVG", "value": svg_ms, "unit": "ms", "baseline": spec_ms, "ratio": svg_ms / spec_ms},
        {"name": f"{kind}: spec + PNG", "value": png_ms, "unit": "ms", "baseline": spec_ms, "ratio": png_ms / spec_ms},
        {
            "name": f"{kind}: spec + PNG, phone layout (800 px, the whole chart)",
            "value": phone_ms,
            "unit": "ms",
            "baseline": spec_ms,
            "ratio": phone_ms / spec_ms,
        },
        {
            "name": f"{kind}: spec + PNG, compact phone layout (a message's image)",
            "value": message_ms,
            "unit": "ms",
            "baseline": spec_ms,
            "ratio": message_ms / spec_ms,
        },
        {"name": f"{kind}: SVG size", "value": len(svg), "unit": "B"},
        {"name": f"{kind}: PNG size", "value": len(png), "unit": "B", "goal": "<= 2 MB", "ok": len(png) <= MAX_PNG},
        {"name": f"{kind}: PNG size, phone layout", "value": len(phone), "unit": "B", "goal": "<= 2 MB"}
        | {"ok": len(phone) <= MAX_PNG},
        {"name": f"{kind}: PNG size, a message's image", "value": len(message), "unit": "B", "goal": "<= 2 MB"}
        | {"ok": len(message) <= MAX_PNG},
    ]


# The modules that put charts and the digest into messages (issue 17), besides lib/charts itself.
MESSAGE_MODULES = (
    "lib/notify/images.py",
    "lib/app/images.py",
    "lib/app/digest.py",
    "lib/messages/digest.py",
    "lib/config/digest.py",
)


def _package_rows() -> list[dict[str, Any]]:
    from lib.deploy.package import build, zip_bytes

    with tempfile.TemporaryDirectory(prefix="bench-charts-") as folder:
        out = build(Path(folder) / "package", wheels=False)
        with_all = len(zip_bytes(out))
        for module in MESSAGE_MODULES:
            (out / module).unlink()
        with_charts = len(zip_bytes(out))
        shutil.rmtree(out / "lib" / "charts")
        without = len(zip_bytes(out))
    return [
        {"name": "package (no wheels) without lib/charts, digest and images (before)", "value": without, "unit": "B"},
        {
            "name": "package (no wheels) with them (after)",
            "value": with_all,
            "unit": "B",
            "baseline": without,
            "ratio": with_all / without,
            "goal": "no library added",
        },
        {"name": "  of which lib/charts", "value": with_charts - without, "unit": "B"},
        {"name": "  of which the digest and the images in messages", "value": with_all - with_charts, "unit": "B"},
    ]


def _child(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _import_ms(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    return statistics.median(float(_child(code)) for _ in range(IMPORT_REPEATS))


def _cold_start_rows() -> list[dict[str, Any]]:
    loaded = _child("import sys, handlers.timer; print(sum(m.startswith('lib.charts') for m in sys.modules))")
    timer_ms = _import_ms("import handlers.timer")
    charts_ms = _import_ms("import lib.charts.svg, lib.charts.png")
    return [
        {"name": "lib.charts modules loaded by import handlers.timer", "value": int(loaded), "goal": "0"}
        | {"ok": loaded == "0"},
        {"name": "cold import handlers.timer", "value": timer_ms, "unit": "ms"},
        {"name": "cold import lib.charts.svg + png (where drawn)", "value": charts_ms, "unit": "ms"},
    ]


# The child: SCF's cold start (import the handler, invoke it once) with charts on, or off (drawing stubbed).
TIMER_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from handlers.timer import main_handler
t1 = time.perf_counter()
if sys.argv[1] == "off":
    import lib.app.images
    lib.app.images.budget_png = lambda *args, **kwargs: None  # nothing to draw: no chart item, no image
import lib.app.digest  # the step after the alerts: their charts (import, drawing, image deliveries), the digest
after_alerts, spent = lib.app.digest.after_alerts, []
def timed(*args, **kwargs):
    started = time.process_time()
    try:
        return after_alerts(*args, **kwargs)
    finally:
        spent.append(time.process_time() - started)
lib.app.digest.after_alerts = timed
event = json.load(open("events/timer.json", encoding="utf-8"))
context = json.load(open("events/context.json", encoding="utf-8"))
result = main_handler(event, context)
t2 = time.perf_counter()
from lib.app.instance import current_app
from lib.notify.images import chart_id
sent = [d for d in result["notifications"] if d["outcome"] == "sent"]
charts = {chart_id(d["id"], b.name) for d in sent for b in current_app().config.budgets}
print(json.dumps({
    "import_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000, "errors": result["errors"],
    "sent": len(sent), "images": sum(d["id"] in charts for d in sent), "cpu_ms": time.process_time() * 1000,
    "after_ms": sum(spent) * 1000,
}))
"""
TIMER_REPEATS = 15


def _timer_rows() -> list[dict[str, Any]]:
    """Charts on against off, with byte code (as packaged) and from source."""
    return _timer_rows_in(compiled=True) + _timer_rows_in(compiled=False)


def _timer_rows_in(*, compiled: bool) -> list[dict[str, Any]]:
    """Charts on against off: import + first timer invocation (3 budgets), and the 10-budget run's wall time."""
    from bench.bench_coldstart import CONFIG_10, _clean_env, _invoke_env, live_scenario
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox

    cases = {"first": str(ROOT / "budgets.yaml"), "ten": ""}
    firsts: dict[str, list[float]] = {"on": [], "off": []}
    walls: dict[str, list[float]] = {"on": [], "off": []}
    cpus: dict[str, list[float]] = {"on": [], "off": []}
    first_cpus: dict[str, list[float]] = {"on": [], "off": []}
    afters: dict[str, list[float]] = {"on": [], "off": []}
    images: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-charts-") as tmp,
        Sandbox(live_scenario(datetime.now(timezone.utc))) as sandbox,
        Receiver() as receiver,
    ):
        cases["ten"] = str(Path(tmp) / "budgets-10.yaml")
        Path(cases["ten"]).write_text(CONFIG_10, encoding="utf-8")
        python = [sys.executable, "-X", f"pycache_prefix={tmp}/pyc"] if compiled else [sys.executable]
        rounds = [("warm", i) for i in range(1 if compiled else 0)] + [("timed", i) for i in range(TIMER_REPEATS)]
        for purpose, i in rounds:  # interleaved, so drift on the machine hits both alike
            for case, config in cases.items():
                for mode in ("on", "off"):
                    env = _clean_env(_invoke_env(sandbox, receiver, f"{tmp}/{purpose}-{case}-{mode}-{i}", config))
                    if purpose == "warm":
                        del env["PYTHONDONTWRITEBYTECODE"]  # this run writes the .pyc the timed runs read
                    started = time.perf_counter()
                    done = subprocess.run(
                        [*python, "-c", TIMER_CHILD, mode],
                        check=False,
                        cwd=ROOT,
                        env=env,
                        capture_output=True,
                        text=True,
                    )
                    wall = (time.perf_counter() - started) * 1000
                    if done.returncode != 0:
                        raise RuntimeError(f"timer child failed: {done.stderr[-2000:]}")
                    doc = json.loads(done.stdout.strip().splitlines()[-1])
                    if doc["errors"] or not doc["sent"] or (mode == "off" and doc["images"]):
                        raise RuntimeError(f"the timer run did not go as expected: {doc}")
                    if purpose == "warm":
                        continue
                    images[f"{case}-{mode}"] = doc["images"]
                    if case == "first":
                        firsts[mode].append(doc["import_ms"] + doc["first_ms"])
                        first_cpus[mode].append(doc["cpu_ms"])
                    else:
                        walls[mode].append(wall)
                        cpus[mode].append(doc["cpu_ms"])
                        afters[mode].append(doc["after_ms"])
    how = "with .pyc (as packaged)" if compiled else "from source"
    rows = []
    for name, found, key in (
        ("import + first timer invocation (3 budgets)", firsts, "first"),
        ("  same, CPU time of the function's process", first_cpus, "first"),
        ("10-budget timer run, fresh process, wall", walls, "ten"),
        ("10-budget timer run, CPU time of the function's process", cpus, "ten"),
    ):
        on, off = statistics.median(found["on"]), statistics.median(found["off"])
        rows.append(
            {
                "name": f"{name}, {how}: charts on ({images[key + '-on']} images) vs off, median of {TIMER_REPEATS}",
                "value": on,
                "unit": "ms",
                "baseline": off,
                "ratio": on / off,
                "goal": "<= 1.1x",
                "ok": on / off <= 1.1,
            }
        )
        # On a shared machine the fastest run is the one least disturbed: its ratio is the steadier figure.
        fastest_on, fastest_off = min(found["on"]), min(found["off"])
        rows.append(
            {
                "name": "  same, fastest of each",
                "value": fastest_on,
                "unit": "ms",
                "baseline": fastest_off,
                "ratio": fastest_on / fastest_off,
                "goal": "<= 1.1x",
                "ok": fastest_on / fastest_off <= 1.1,
            }
        )
    # What the charts add, measured where they are spent (the step after the alerts), not as the difference
    # of two whole runs: on a shared machine the runs' own spread is larger than the charts' cost.
    added = statistics.median(afters["on"]) - statistics.median(afters["off"])
    off_cpu = statistics.median(cpus["off"])
    rows.append(
        {
            "name": f"  10-budget run, {how}: CPU of the charts' step (on {statistics.median(afters['on']):.0f} ms"
            f" - off {statistics.median(afters['off']):.0f} ms) over the off run's CPU",
            "value": off_cpu + added,
            "unit": "ms",
            "baseline": off_cpu,
            "ratio": (off_cpu + added) / off_cpu,
            "goal": "<= 1.1x",
            "ok": (off_cpu + added) / off_cpu <= 1.1,
        }
    )
    return rows


def run() -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    return (
        _drawing_rows("month usage", _usage_spec())
        + _drawing_rows("balance", _balance_spec())
        + _package_rows()
        + _cold_start_rows()
        + _timer_rows()
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import table

    print(table(run()))
