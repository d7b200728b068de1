"""Chart images in messages: a budget's chart is drawn once a run however many steps carry it, and every
step (alerts, digest, chart retries) sends through the one send step, with the same links and images."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

import lib.app.images
import lib.charts.png
from lib.app.images import chart_images
from lib.app.pipeline import _sender
from lib.app.runtime import App
from lib.app.sending import sender
from lib.config.models import Config
from lib.model import Point
from lib.notify.images import chart_item
from lib.settings import Settings
from lib.state.memory import MemoryStore
from lib.state.repo import StateRepository
from tests.api_fixtures import CONFIG, NOW
from tests.unit.notify_samples import AT, TRAFFIC

HOOK = "https://hooks.example.com/budget"
SECRET = "chart-images-link-secret-0123456789"
PUBLIC = "https://1250000000-abcd.ap-guangzhou.tencentscf.com"


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def series_app(clock: Clock) -> App:
    repo = StateRepository(MemoryStore("chart-images"))
    points = [Point(NOW - timedelta(hours=h), Decimal(10**11 * (50 - h))) for h in range(48, 0, -1)]
    repo.series.save("edgeone-traffic", "zone-id=zone-a", points)
    return App(CONFIG, repo.store, repo, None, requests.Session(), clock=clock)  # type: ignore[arg-type]


@pytest.fixture
def drawings(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Each PNG ``render_png`` drew; the run cache starts empty."""
    monkeypatch.setattr(lib.app.images, "_DRAWN", {})
    drawn: list[bytes] = []
    real = lib.charts.png.render_png

    def counting(*args: Any, **kwargs: Any) -> bytes:
        drawn.append(real(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(lib.charts.png, "render_png", counting)
    return drawn


def traffic_chart() -> Any:
    alert = replace(TRAFFIC, budget="edgeone-traffic", unit="B", limit=Decimal(10**13))
    return chart_item(alert, "ops")


def test_a_budgets_chart_is_drawn_once_a_run_whatever_steps_carry_it(drawings: list[bytes]) -> None:
    clock = Clock(NOW + timedelta(seconds=5))
    app = series_app(clock)
    item = traffic_chart()
    alerts_step, digest_step = chart_images(app), chart_images(app)  # as the pipeline and the digest make them
    first = alerts_step(item)
    clock.at += timedelta(seconds=20)  # later in the same run
    assert digest_step(item) == first and alerts_step(item) == first
    assert first is not None and first.startswith(b"\x89PNG") and len(drawings) == 1


def test_a_messages_chart_is_the_compact_phone_image_about_square() -> None:
    """What a chat shows as a thumbnail: the plot and its legend 800 px wide, not the whole chart (twice as
    tall as wide, with the bars and top groups the dashboard has)."""
    import struct

    png = chart_images(series_app(Clock(NOW)))(traffic_chart())
    assert png is not None
    width, height = struct.unpack(">II", png[16:24])
    assert width == 800 and 0.8 * width < height < 1.3 * width


def test_a_later_run_or_more_data_draws_the_chart_again(drawings: list[bytes]) -> None:
    clock = Clock(NOW)
    app = series_app(clock)
    item = traffic_chart()
    chart_images(app)(item)
    clock.at += timedelta(minutes=5)  # the next timer tick
    chart_images(app)(item)
    app.repo.series.save("edgeone-traffic", "zone-id=zone-a", [Point(NOW, Decimal(6 * 10**12))])  # this run's data
    chart_images(app)(item)
    assert len(drawings) == 3


def test_an_edited_configuration_draws_its_own_chart(drawings: list[bytes]) -> None:
    clock = Clock(NOW)
    app = series_app(clock)
    chart_images(app)(traffic_chart())
    budgets = tuple(replace_budget(b) for b in CONFIG.budgets)
    edited = App(
        CONFIG.model_copy(update={"budgets": budgets}), app.store, app.repo, app.client, app.session, clock=clock
    )
    chart_images(edited)(traffic_chart())
    assert len(drawings) == 2 and drawings[0] != drawings[1]


def replace_budget(budget: Any) -> Any:
    return budget.model_copy(update={"thresholds": (Decimal(25),)}) if budget.name == "edgeone-traffic" else budget


def link_app(settings: Settings) -> App:
    config = Config.model_validate(
        {"timezone": "Asia/Shanghai", "channels": {"audit": {"type": "webhook", "url": HOOK}}, "budgets": []}
    )
    repo = StateRepository(MemoryStore("links"))
    return App(config, repo.store, repo, None, requests.Session(), settings=settings, clock=lambda: AT)  # type: ignore[arg-type]


@pytest.mark.parametrize("step", ["alerts", "digest and charts"])
@responses.activate
def test_every_step_sends_with_the_same_links(step: str) -> None:
    # The digest's and the charts' deliveries once had a send step of their own, without links=.
    responses.add(responses.POST, HOOK, status=204)
    app = link_app(Settings(public_url=PUBLIC, link_secret=SECRET))
    pending = {"id": "act_1", "type": "pause-zone", "state": "pending-approval", "targets": ["zone-2m2gq4dnpmd2"]}
    alert = replace(TRAFFIC, detail={"actions": [pending]})
    send = _sender(app, AT) if step == "alerts" else sender(app, AT, images=chart_images(app))
    assert [r.outcome for r in send("audit", [alert])] == ["sent"]
    payload = json.loads(responses.calls[0].request.body or b"")
    assert payload["links"]["approve"].startswith(f"{PUBLIC}/l/")
