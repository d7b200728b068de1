"""The demo's dashboard: sign in through the API handler, then write the page and one chart to ``build/demo/``.

Everything goes through ``lib.api.handle`` as a browser's requests would (``POST /login`` → cookie →
``GET /``; ``GET /charts/<budget>.svg|.png`` with the bearer token), so the files are what the deployed
function answers. Open ``build/demo/dashboard.html`` in a browser: it needs nothing else (no scripts,
no fonts or styles fetched), though its buttons only work when served (``python -m lib serve``).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lib.app.runtime import App

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "demo"
CHART_BUDGET = "edgeone-traffic"
_HOST = "127.0.0.1"


def _event(method: str, path: str, *, headers: dict[str, str], body: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "headers": {"host": _HOST, "x-scf-remote-addr": "127.0.0.1", **headers},
        "httpMethod": method,
        "path": path,
        "queryString": {},
    }
    if body is not None:
        event["body"] = body
    return event


def write_dashboard(app: App, token: str, out: Path = OUT) -> list[Path]:
    """Write ``dashboard.html`` and the chart of ``CHART_BUDGET`` (SVG and PNG); returns their paths."""
    from urllib.parse import urlencode

    from lib.api import handle, set_app

    set_app(app)
    form = {"content-type": "application/x-www-form-urlencoded", "origin": f"http://{_HOST}"}
    signed_in = handle(_event("POST", "/login", headers=form, body=urlencode({"token": token})), {})
    if signed_in["statusCode"] != 303:
        raise RuntimeError(f"demo: sign-in answered {signed_in['statusCode']}: {signed_in['body'][:200]}")
    cookie = signed_in["headers"]["Set-Cookie"].split(";", 1)[0]
    page = handle(_event("GET", "/", headers={"cookie": cookie}), {})
    bearer = {"authorization": f"Bearer {token}"}
    svg = handle(_event("GET", f"/charts/{CHART_BUDGET}.svg", headers=bearer), {})
    png = handle(_event("GET", f"/charts/{CHART_BUDGET}.png", headers=bearer), {})
    for name, answer in (("dashboard", page), ("svg chart", svg), ("png chart", png)):
        if answer["statusCode"] != 200:
            raise RuntimeError(f"demo: the {name} answered {answer['statusCode']}: {answer['body'][:200]}")
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "dashboard.html", out / f"{CHART_BUDGET}.svg", out / f"{CHART_BUDGET}.png"]
    paths[0].write_text(page["body"], encoding="utf-8")
    paths[1].write_text(svg["body"], encoding="utf-8")
    paths[2].write_bytes(base64.b64decode(png["body"]))  # the Function URL's base64 body, decoded
    for path in paths:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"  wrote {shown} ({path.stat().st_size:,} bytes)")
    return paths
