"""``make demo``'s dashboard step: the page and one chart written through the API handler after signing in."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.demo_dashboard import write_dashboard
from tests.api_fixtures import TOKENS
from tests.web_support import web_app


def test_the_demo_writes_the_signed_in_dashboard_and_a_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import lib.api

    app = web_app()
    try:
        html, svg, png = write_dashboard(app, TOKENS[0], tmp_path / "demo")
    finally:
        lib.api.set_app(None)
    page = html.read_text(encoding="utf-8")
    assert 'action="/logout"' in page and "edgeone-traffic" in page  # signed in: the board, not the form
    assert svg.read_text(encoding="utf-8").startswith("<svg") and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert all(p.name in printed for p in (html, svg, png))


def test_a_wrong_token_stops_the_demo_loudly(tmp_path: Path) -> None:
    import lib.api

    try:
        with pytest.raises(RuntimeError, match="sign-in answered 401"):
            write_dashboard(web_app(), "not-the-demo-token-000", tmp_path)
    finally:
        lib.api.set_app(None)
