"""The month soak: 10-minute timer runs through November 2026 against the sandbox, checked against a hand-worked table.

What runs: the real in-process ``Sandbox`` (scenario ``tests/soak/month.yaml``), two real ``Receiver``s (channels
``ops`` and ``audit``, both signed Standard Webhooks), a real state store (a local folder, or the sandbox's COS
with ``store="cos"``), and ``App.run_check``
with an injected clock: at every step the App's clock, the state repository's clock and the sandbox's data
clock are the step's instant. Between steps the driver does what the timeline says: creates silences (through
the API handler and through the state repository) and takes the ``audit`` webhook down and up again; where an
alert is due it runs two function instances at once; a run that fails on its state is retried twice (SCF).
Faults come from the scenario (EdgeOne, Billing and COS errors on the data clock).

What is checked: every delivery each receiver accepted, with the step it arrived in, against ``EXPECTED`` --
a table written by hand from the scenario's definition (see the notes on each row, and
``tests/e2e/test_soak.py``, which recomputes the crossing times from the YAML file with its own arithmetic);
exactly once per (notification id, channel) by the ``webhook-id`` header; nothing left in the outbox.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # for annotations only: like the rest of lib here, App is imported where it is used
    from lib.app.runtime import App

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "soak" / "month.yaml"
CONFIG = ROOT / "tests" / "soak" / "budgets.yaml"
TZ = ZoneInfo("Asia/Shanghai")
STEP = timedelta(minutes=10)
ZONE_A = "zone-2soakaaaaaaa"
ZONE_B = "zone-2soakbbbbbbb"
API_TOKEN = "soak-token-0123456789"
COS_STATE = "cos://soak-1250000000.ap-guangzhou/state"
GB = 10**9


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant of November 2026 in Asia/Shanghai (day 31 means 1 December 00:00)."""
    if day == 31:
        return datetime(2026, 12, 1, tzinfo=TZ)
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


MONTH = (at(1), at(31))  # 4,320 steps of 10 minutes
FAST = (at(3), at(8))  # 720 steps holding one of each kind of event (the `make test` version)


# --- the timeline ----------------------------------------------------------------------------------------

# The audit webhook answers 503 in these windows ([start, end) on the step clock).
OUTAGES: dict[str, tuple[tuple[datetime, datetime], ...]] = {
    "audit": ((at(4, 9), at(4, 12)), (at(13, 21), at(14, 1))),
}


@dataclass(frozen=True)
class SilencePlan:
    """A silence created at step ``created`` through ``via`` ("api": POST /silences; "repo": put_silence)."""

    created: datetime
    via: str
    matchers: dict[str, str]
    starts: datetime
    ends: datetime


SILENCES = (
    # S1: zone-b's day crossing (20:50) and its spike (fires 21:00, clears 22:00) happen inside it.
    SilencePlan(at(5), "api", {"zone-id": ZONE_B}, at(7, 18), at(7, 23)),
    # S2: holds low-balance; the reminders due at 17:00 on the 18th and 19th are skipped, not queued.
    SilencePlan(at(18, 10), "api", {"budget": "low-balance"}, at(18, 10), at(19, 18)),
    # S3: holds monthly-spend's 90 % crossing (12:00) until 20:00.
    SilencePlan(at(20), "repo", {"budget": "monthly-spend"}, at(23, 8), at(23, 20)),
)


@dataclass(frozen=True)
class Expected:
    """One delivery a channel must accept, in the step ``at``; ``decided`` is when the rules first see it."""

    at: datetime
    channel: str
    budget: str
    kind: str
    status: str = "firing"
    level: float | None = None
    zone: str = ""
    value: Decimal | None = None  # in the budget's unit (B, CNY); None: not asserted
    forecast: Decimal | None = None
    decided: datetime | None = None  # None: the same as ``at``
    note: str = ""

    @property
    def when_decided(self) -> datetime:
        return self.decided or self.at

    def key(self) -> tuple[Any, ...]:
        return (self.at, self.channel, self.budget, self.zone, self.kind, self.status, self.level)


def _both(row: Expected, audit_at: datetime | None = None, note: str = "") -> tuple[Expected, Expected]:
    """The row for ops and the same alert for audit (late when the audit webhook was down)."""
    audit = replace(row, channel="audit", at=audit_at or row.at, decided=row.when_decided, note=note or row.note)
    return row, audit


def _gb(n: int | str) -> Decimal:
    return Decimal(n) * GB


# Worked by hand from tests/soak/month.yaml. zone-a: 1 GB per 5-minute bucket (288 GB/day), zone-b 0.5 GB;
# a bucket [t, t+5m) is visible at t+5m, so the run at T sees every bucket that ended by T.
# Spike extras on zone-a: SA1 +576 GB (3rd), SA2 +696 GB (10th), SA3 +9 GB a bucket, 108 GB (16th 02:00-03:00).
# Spike rule: the latest complete hour against the median of the 6 complete hours before it, whatever day.
# Money: 10 yuan per hour ended since 1 Nov 00:00 (h hours): cost = 10h; balance = 2000 + top-ups - 10h.
EXPECTED: tuple[Expected, ...] = (
    Expected(at(3, 20, 40), "ops", "traffic-day", "threshold", level=100, zone=ZONE_A, value=_gb(440),
             note="240 GB by 20:00, then 25 GB a bucket: 390 GB at 20:30, 8 buckets -> 440 GB at the 20:40 run"),
    Expected(at(3, 21), "ops", "traffic-spike", "spike", zone=ZONE_A,
             note="hour 20 (300 GB) complete at 21:00; the 6 hours before it are 12 GB: 300 > 3 x 12"),
    Expected(at(3, 23), "ops", "traffic-spike", "spike", "resolved", zone=ZONE_A,
             note="hour 21 is still 300 GB (fires on); hour 22 (12 GB) complete at 23:00 clears it"),
    *(
        Expected(at(4, 10, 20), "ops", budget, "no-data",
                 note="F1: DescribeBillingData fails at 10:00, 10:10, 10:20: the third failure raises no-data")
        for budget in ("traffic-month", "traffic-day", "traffic-spike")
    ),
    *(
        Expected(at(4, 10, 40), "ops", budget, "no-data", "resolved",
                 note="F1 fails 10:30 too (no-data stays); the 10:40 fetch succeeds and resolves it")
        for budget in ("traffic-month", "traffic-day", "traffic-spike")
    ),
    Expected(at(4, 12), "audit", "traffic-month", "no-data", decided=at(4, 10, 20),
             note="audit down 09:00-12:00: tries 10:20 10:30 10:40 10:50 11:00 (+16 min) 11:20 (+32) -> 12:00"),
    Expected(at(4, 12, 20), "audit", "traffic-month", "no-data", "resolved", decided=at(4, 10, 40),
             note="tries 10:40 10:50 11:00 11:10 11:20 (+16 min) 11:40 (+32 min -> 12:12) -> 12:20"),
    Expected(at(5, 5, 10), "ops", "low-balance", "below", value=Decimal(990), decided=at(5, 5),
             note="h=100 at 04:00: exactly 1000, not below; h=101 at 05:00 (990) but F2 fails the 05:00 fetch"),
    Expected(at(6, 5, 10), "ops", "low-balance", "below", value=Decimal(750),
             note="repeat 24h, counted from the first message (5th 05:10): h=125 -> 750"),
    Expected(at(6, 12), "ops", "low-balance", "below", "resolved", value=Decimal(3680),
             note="top-up 3000 at 11:55: 5000 - 10 x 132 = 3680 at the 12:00 run"),
    Expected(at(7, 23), "ops", "traffic-day", "threshold", level=100, zone=ZONE_B, decided=at(7, 20, 50),
             note="120 GB by 20:00, then 30 GB a bucket: 420 GB at 20:50, held by S1 until 23:00; zone-b's "
             "spike fires (21:00) and clears (22:00) inside S1, so it is never sent"),
    Expected(at(10, 13, 50), "ops", "traffic-day", "threshold", level=100, zone=ZONE_A, value=_gb(456),
             note="156 GB by 13:00, then 30 GB a bucket: 396 GB at 13:40, 456 GB at 13:50"),
    Expected(at(10, 14), "ops", "traffic-spike", "spike", zone=ZONE_A, note="hour 13 (360 GB) complete at 14:00"),
    Expected(at(10, 16), "ops", "traffic-spike", "spike", "resolved", zone=ZONE_A,
             note="hour 14 still 360 GB; hour 15 (12 GB) complete at 16:00"),
    *_both(Expected(at(13, 12), "ops", "monthly-spend", "threshold", level=50, value=Decimal(3000),
                    note="h=300 at 12:00: 3000 = 50 % of 6000 (a value equal to a level crosses it)")),
    *_both(
        Expected(at(13, 22, 40), "ops", "traffic-month", "threshold", level=50, value=_gb(5000),
                 note="3728 buckets + 1272 GB of SA1/SA2 extras = 5000 GB exactly at 22:40"),
        audit_at=at(14, 1, 20),
        note="audit down 21:00-01:00: tries 22:40 22:50 23:00 23:10 23:20 23:40 00:20 (+60 min) -> 01:20",
    ),
    Expected(at(16, 3), "ops", "traffic-spike", "spike", zone=ZONE_A,
             note="hour 02 (120 GB) complete at 03:00; its baseline is the 6 hours before, 20:00-02:00 across "
             "midnight (the collector fetches a lookback before the day): 12 GB"),
    Expected(at(16, 4), "ops", "traffic-spike", "spike", "resolved", zone=ZONE_A,
             note="hour 03 (12 GB) complete at 04:00"),
    *_both(Expected(at(16, 2, 50), "ops", "traffic-month", "forecast", value=_gb(5716), forecast=_gb(10002),
                    note="projection = 8640 GB + extras: 1272 + 9 x 10 = 1362 at 02:50 -> 10002 GB >= 10 TB "
                    "(9993 GB at 02:40); the median day is 288 GB")),
    Expected(at(17, 17), "ops", "low-balance", "below", value=Decimal(990),
             note="5000 - 10h < 1000 first at h=401 (17th 17:00)"),
    *(
        Expected(at(day, 17), "ops", "low-balance", "below", value=Decimal(5000 - 10 * ((day - 1) * 24 + 17)),
                 note="reminders every 24h from 17th 17:00; the 18th's and 19th's fall in S2 and are skipped")
        for day in (20, 21, 22, 23)
    ),
    *_both(Expected(at(23, 20), "ops", "monthly-spend", "threshold", level=90, decided=at(23, 12),
                    note="h=540 at 12:00: 5400 = 90 %, held by S3 until 20:00")),
    *_both(Expected(at(24), "ops", "traffic-month", "threshold", level=80, value=_gb(8004), decided=at(23, 23, 40),
                    note="6620 buckets + 1380 GB = 8000 GB at 23:40, but F4 fails 23:40 and 23:50: told at "
                    "00:00 with 6624 + 1380 = 8004 GB")),
    Expected(at(24, 9), "ops", "low-balance", "below", "resolved", value=Decimal(4390),
             note="top-up 5000 at 08:55: 10000 - 10 x 561 = 4390 at 09:00"),
    *_both(Expected(at(30, 22, 20), "ops", "traffic-month", "threshold", level=100, value=_gb(10000),
                    note="8620 buckets + 1380 GB = 10000 GB exactly at 22:20")),
)  # fmt: skip


def expected_between(start: datetime, end: datetime) -> list[Expected]:
    return sorted((e for e in EXPECTED if start <= e.at < end), key=lambda e: (e.at, e.channel, e.budget, e.zone))


# --- an independent model of the scenario (for the table's self-check) -------------------------------------

BUCKET = timedelta(minutes=5)
SPIKES_A = ((at(3, 20), at(3, 22), 25), (at(10, 13), at(10, 15), 30), (at(16, 2), at(16, 3), 10))
SPIKES_B = ((at(7, 20), at(7, 21), 60),)


def bucket_gb(zone: str, start: datetime) -> Decimal:
    """GB in the 5-minute bucket starting at ``start``: the base rate times the spike factor."""
    base, spikes = (Decimal(1), SPIKES_A) if zone == ZONE_A else (Decimal("0.5"), SPIKES_B)
    factor = 1
    for lo, hi, f in spikes:
        if lo <= start < hi:
            factor *= f
    return base * factor


@functools.cache
def _running_gb(zone: str) -> tuple[Decimal, ...]:
    """GB in the month's first i buckets, for i = 0 .. 8640."""
    total, out = Decimal(0), [Decimal(0)]
    t = at(1)
    while t < at(31):
        total += bucket_gb(zone, t)
        out.append(total)
        t += BUCKET
    return tuple(out)


def used_gb(zone: str, since: datetime, now: datetime) -> Decimal:
    """GB in the buckets of [since, now) that have ended by ``now`` (both 5-minute marks of the month)."""
    first, last = ((t - at(1)) // BUCKET for t in (since, now))
    if (since - at(1)) % BUCKET or (now - at(1)) % BUCKET:
        raise ValueError("instants must be 5-minute marks")
    return _running_gb(zone)[last] - _running_gb(zone)[first]


def hours_ended(now: datetime) -> int:
    return int((now - at(1)).total_seconds() // 3600)


def balance(now: datetime) -> int:
    topups = ((at(6, 11, 55), 3000), (at(24, 8, 55), 5000))
    return 2000 + sum(amount for when, amount in topups if when <= now) - 10 * hours_ended(now)


def steps(start: datetime, end: datetime) -> Iterator[datetime]:
    t = start
    while t < end:
        yield t
        t += STEP


def next_step(moment: datetime) -> datetime:
    """The first timer step at or after ``moment``."""
    seconds = int(STEP.total_seconds())
    return at(1) + STEP * -(-int((moment - at(1)).total_seconds()) // seconds)


def retry_arrival(first: datetime, down: Iterable[tuple[datetime, datetime]]) -> datetime:
    """The step a delivery first tried at ``first`` gets through: the documented schedule retries 1, 2, 4 ...
    minutes after each failed attempt, capped at 60, on the first step at or after that time."""
    windows = list(down)
    t, attempts = first, 0
    while any(lo <= t < hi for lo, hi in windows):
        attempts += 1
        t = next_step(t + timedelta(minutes=min(2 ** (attempts - 1), 60)))
    return t


# --- the driver ----------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One request a receiver got, with the step whose run sent it."""

    step: datetime
    channel: str
    webhook_id: str
    accepted: bool
    payload: dict[str, Any]

    def key(self) -> tuple[Any, ...]:
        p = self.payload
        zone = (p.get("group") or {}).get("zone-id", "")
        return (self.step, self.channel, p.get("budget"), zone, p.get("kind"), p.get("status"), p.get("level"))


@dataclass
class Report:
    """What a soak did and found; ``problems`` is empty when everything matched."""

    start: datetime
    end: datetime
    steps: int = 0
    runs: int = 0
    overlapping: int = 0
    claims_lost: int = 0  # deliveries an overlapping run found already claimed or sent by its twin
    wall: float = 0.0
    expected: int = 0
    sent: int = 0
    doubled: int = 0
    lost: int = 0
    unexpected: int = 0
    api_faults: int = 0
    runs_with_fetch_errors: int = 0
    webhook_refusals: int = 0
    cos_faults: int = 0
    state_failures: int = 0  # runs that raised a retryable state error
    scf_retries: int = 0
    lost_steps: int = 0  # steps whose three attempts all failed
    silences: int = 0
    outage_steps: int = 0
    state: str = ""
    problems: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def table(self) -> str:
        rows = [
            ("window", f"{self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M} (+08:00)"),
            ("timer steps (10 min)", self.steps),
            ("check runs", f"{self.runs} ({self.overlapping} overlapping pairs)"),
            ("deliveries left to the twin run", self.claims_lost),
            ("notifications expected", self.expected),
            ("notifications sent", self.sent),
            ("doubled", self.doubled),
            ("lost", self.lost),
            ("unexpected", self.unexpected),
            ("API faults injected (fired)", self.api_faults),
            ("runs with fetch errors", self.runs_with_fetch_errors),
            ("COS faults injected (fired)", self.cos_faults),
            (
                "runs failed on state (SCF retried)",
                f"{self.state_failures} ({self.scf_retries} retries, {self.lost_steps} steps lost)",
            ),
            ("webhook requests refused (outages)", self.webhook_refusals),
            ("steps with audit webhook down", self.outage_steps),
            ("silences created", self.silences),
            ("state store", self.state),
            ("wall time", f"{self.wall:.1f} s ({1000 * self.wall / max(self.runs, 1):.1f} ms a run)"),
            ("result", "OK" if not self.problems else f"FAILED ({len(self.problems)} problems)"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def state_parent() -> str | None:
    """A tmpfs folder when there is one: same LocalStore code (fsync included), without a disk's fsync cost."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


class Soak:
    """Sandbox + two receivers + a local state folder + ``App``s whose clocks are the step's instant."""

    def __init__(self, *, state_dir: str | None = None, overlap: bool = True, store: str = "file") -> None:
        if store not in ("file", "cos"):
            raise ValueError(f"store must be file or cos, not {store!r}")
        self.now = at(1)
        self.store_kind = store
        self._lock = threading.Lock()
        self._state_failures = 0
        self._scf_retries = 0
        self.overlap = overlap
        self._state_parent = state_dir
        self._stack = ExitStack()

    def __enter__(self) -> Soak:
        from sandbox.receivers import Receiver
        from sandbox.server import Sandbox

        try:
            self.state = self._stack.enter_context(
                tempfile.TemporaryDirectory(prefix="budget-soak-", dir=self._state_parent or state_parent())
            )
            self.sandbox = self._stack.enter_context(Sandbox(SCENARIO))
            if self.store_kind == "cos":
                from sandbox.cos import CosService

                cos = self.sandbox.app.cos
                assert isinstance(cos, CosService), "the sandbox was built without COS"
                cos.create_bucket("soak-1250000000", "ap-guangzhou")
            self.receivers = {
                "ops": self._stack.enter_context(Receiver()),
                "audit": self._stack.enter_context(Receiver()),
            }
            self.env = {
                "BUDGET_STATE": f"file://{self.state}" if self.store_kind == "file" else COS_STATE,
                "BUDGET_COS_ENDPOINT": self.sandbox.url,
                "TENCENTCLOUD_SECRET_ID": self.sandbox.secret_id,
                "TENCENTCLOUD_SECRET_KEY": self.sandbox.secret_key,
                "BUDGET_API_TOKEN": API_TOKEN,
                **{f"{name.upper()}_URL": r.url("webhook") for name, r in self.receivers.items()},
                **{f"{name.upper()}_SECRET": r.secret("webhook") for name, r in self.receivers.items()},
            }
            self.app = self._app()
            self.twin = self._app() if self.overlap else None  # a second function instance, same state
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _app(self) -> App:
        from lib.app.runtime import App
        from lib.client import ApiClient, Credentials
        from lib.client.ratelimit import unlimited
        from lib.state import open_store, parse_cos_url
        from lib.state.repo import StateRepository
        from lib.state.store import ObjectStore

        # A month of timers runs in a minute: the client's per-second limit and its retry sleeps would only
        # stretch wall time, so both are off; the retries themselves still happen.
        client = ApiClient(
            Credentials(self.sandbox.secret_id, self.sandbox.secret_key),
            endpoint=self.sandbox.url,
            rate_limiter=unlimited(),
            sleep=lambda _seconds: None,
        )
        store: ObjectStore
        if self.store_kind == "cos":
            from lib.state.cos import CosStore

            # As open_store builds it from BUDGET_STATE, but with its retry sleeps off (as the client's).
            bucket, region, prefix = parse_cos_url(COS_STATE)
            credentials = Credentials(self.sandbox.secret_id, self.sandbox.secret_key)
            store = CosStore(bucket, region, prefix, credentials, endpoint=self.sandbox.url, sleep=lambda _s: None)
        else:
            store = open_store(self.env["BUDGET_STATE"], environ=self.env)
        repo = StateRepository(store, clock=lambda: self.now.timestamp())
        app = App.from_env(
            self.env, config_source=str(CONFIG), client=client, store=store, repo=repo, clock=lambda: self.now
        )
        self._stack.callback(client.close)
        self._stack.callback(store.close)
        self._stack.callback(app.session.close)
        return app

    # -- what happens between runs --

    def _api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        import lib.api as api_lib
        from handlers import api

        event = {
            "httpMethod": method,
            "path": path,
            "headers": {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
            "queryString": {},
            "body": json.dumps(body) if body is not None else None,
            "isBase64Encoded": False,
            "requestContext": {"httpMethod": method, "path": path, "stage": "release"},
        }
        api_lib.set_app(self.app)
        try:
            response = api.main_handler(event, {})
        finally:
            api_lib.set_app(None)
        return int(response["statusCode"]), json.loads(response["body"])

    def create_silence(self, plan: SilencePlan) -> None:
        from lib.model import Silence

        if plan.via == "api":
            body: dict[str, Any] = {"matchers": plan.matchers, "ends_at": plan.ends.isoformat(), "comment": "soak"}
            if plan.starts != self.now:
                body["starts_at"] = plan.starts.isoformat()
            status, answer = self._api("POST", "/silences", body)
            if status != 201:
                raise AssertionError(f"POST /silences answered {status}: {answer}")
        else:
            name = "sil_soak_" + "_".join(v.replace("-", "") for v in plan.matchers.values())
            self.app.repo.silences.put(
                Silence(name, dict(plan.matchers), plan.starts, plan.ends, comment="soak", created_by="soak")
            )

    def _webhook_state(self, channel: str, down: bool, log: list[Delivery]) -> None:
        receiver = self.receivers[channel]
        if down and not self._down.get(channel):
            receiver.fail("webhook", times=100_000, status=503, body={"error": "unavailable"})
        elif not down and self._down.get(channel):
            self._harvest(log)
            receiver.clear()  # drops the queued failures (and the requests already harvested)
            self._seen[channel] = 0
        self._down[channel] = down

    def _harvest(self, log: list[Delivery]) -> None:
        for channel, receiver in self.receivers.items():
            received = receiver.received
            for item in received[self._seen[channel] :]:
                payload = item.json if isinstance(item.json, dict) else {}
                log.append(Delivery(self.now, channel, item.headers.get("webhook-id", ""), item.accepted, payload))
            self._seen[channel] = len(received)

    # -- the run --

    def _invoke(self, app: App) -> dict[str, Any] | None:
        """One timer invocation as SCF makes it: a retryable state error is raised by the timer handler, and
        SCF retries the invocation twice; None when all three attempts failed (the step is lost)."""
        from lib.errors import StateError

        for attempt in range(3):
            try:
                return app.run_check(trigger="timer").to_dict()
            except StateError as exc:
                if not exc.retryable:
                    raise
                with self._lock:
                    self._state_failures += 1
                    self._scf_retries += attempt < 2
        return None

    def _check(self) -> list[dict[str, Any]]:
        if self.twin is None or not self._overlap_now:
            result = self._invoke(self.app)
            return [] if result is None else [result]
        # Two function instances on the same instant (an SCF retry racing the original, or two timers).
        results: list[dict[str, Any]] = []
        errors: list[BaseException] = []

        def run(app: App) -> None:
            try:
                result = self._invoke(app)
                if result is not None:
                    results.append(result)
            except BaseException as exc:  # reported below, on the main thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(a,)) for a in (self.app, self.twin)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results

    def run(self, start: datetime, end: datetime) -> Report:
        where = "COS in the sandbox" if self.store_kind == "cos" else "local folder"
        medium = "tmpfs" if self.state.startswith("/dev/shm") else "disk"
        report = Report(start, end, state=f"{where} ({'memory' if self.store_kind == 'cos' else medium})")
        expected = expected_between(start, end)
        sending_steps = {e.at for e in expected}
        log: list[Delivery] = []
        self._down: dict[str, bool] = {}
        self._seen = dict.fromkeys(self.receivers, 0)
        began = time.perf_counter()
        for step in steps(start, end):
            self.now = step
            self.sandbox.set_now(step)
            for plan in SILENCES:
                if plan.created == step:
                    self.create_silence(plan)
                    report.silences += 1
            any_down = False
            for channel in self.receivers:
                down = any(lo <= step < hi for lo, hi in OUTAGES.get(channel, ()))
                self._webhook_state(channel, down, log)
                any_down = any_down or down
            report.outage_steps += any_down
            # Overlap where a first delivery is due and no webhook is down: with an outage, the loser of a
            # claim may retry a released delivery in the same step, which is allowed but moves the backoff.
            self._overlap_now = self.overlap and step in sending_steps and not any_down
            results = self._check()
            report.steps += 1
            report.runs += len(results)
            report.lost_steps += not results
            if self._overlap_now:
                report.overlapping += 1
                report.claims_lost += sum(
                    d["outcome"] in ("skipped", "queued") for r in results for d in r["notifications"]
                )
            report.runs_with_fetch_errors += any(e.get("source") == "collect" for r in results[:1] for e in r["errors"])
            self._harvest(log)
        report.wall = time.perf_counter() - began
        report.deliveries = log
        products = [f.product for f in self.sandbox.scenario.spec.faults]
        counts = self.sandbox.scenario.fault_counts()
        report.api_faults = sum(fired for product, (_, fired) in zip(products, counts, strict=True) if product != "cos")
        report.cos_faults = sum(fired for product, (_, fired) in zip(products, counts, strict=True) if product == "cos")
        report.state_failures, report.scf_retries = self._state_failures, self._scf_retries
        report.webhook_refusals = sum(not d.accepted for d in log)
        _compare(report, expected, log)
        self._check_state(report)
        return report

    def _check_state(self, report: Report) -> None:
        pending = self.app.repo.outbox.pending()
        failed = self.app.repo.outbox.failed()
        if pending or failed:
            report.problems.append(f"outbox not empty at the end: {len(pending)} pending, {len(failed)} failed")
        if self.app.repo.problems:
            report.problems.append(f"state problems: {self.app.repo.problems[:3]}")


def _compare(report: Report, expected: list[Expected], log: list[Delivery]) -> None:
    accepted = [d for d in log if d.accepted]
    report.expected = len(expected)
    report.sent = len(accepted)
    copies = Counter((d.channel, d.webhook_id) for d in accepted)
    report.doubled = sum(n - 1 for n in copies.values() if n > 1)
    for (channel, wid), n in sorted(copies.items()):
        if n > 1:
            report.problems.append(f"doubled: {channel} accepted {wid} {n} times")
    want = Counter(e.key() for e in expected)
    have = Counter(d.key() for d in accepted)
    # Lost and unexpected by identity without the step, so a late delivery reads as "late", not lost + extra.
    want_any = Counter(k[1:] for k in want.elements())
    have_any = Counter(k[1:] for k in {d.key() for d in accepted})
    report.lost = sum((want_any - have_any).values())
    report.unexpected = sum((have_any - want_any).values())
    for key in sorted((want - have).elements(), key=_sort_key):
        report.problems.append(f"expected, not delivered in that step: {_show(key)}")
    for key in sorted((have - want).elements(), key=_sort_key):
        report.problems.append(f"delivered, not expected: {_show(key)}")
    # The exact order per channel (within one step, the order of a batch is not part of the promise).
    for channel in ("ops", "audit"):
        got = [d.key() for d in accepted if d.channel == channel]
        if [k[0] for k in got] != sorted(k[0] for k in got):
            report.problems.append(f"{channel}: deliveries out of step order")
    by_key = {e.key(): e for e in expected}
    for d in accepted:
        e = by_key.get(d.key())
        if e is None:
            continue
        for name, want_value in (("value", e.value), ("forecast", e.forecast)):
            got_value = d.payload.get(name)
            if want_value is not None and (got_value is None or Decimal(str(got_value)) != want_value):
                report.problems.append(f"{_show(d.key())}: {name} {got_value}, expected {want_value}")
    for d in accepted:
        if d.payload.get("id") != d.webhook_id:
            report.problems.append(f"{_show(d.key())}: webhook-id {d.webhook_id} but payload id {d.payload.get('id')}")


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple("" if v is None else str(v) for v in key)


def _show(key: tuple[Any, ...]) -> str:
    step, channel, budget, zone, kind, status, level = key
    where = f" {zone}" if zone else ""
    lvl = f" {level:g}%" if isinstance(level, (int, float)) else ""
    return f"{step:%m-%d %H:%M} {channel}: {budget}{where} {kind}{lvl} {status}"


def run_soak(start: datetime, end: datetime, **kwargs: Any) -> Report:
    with Soak(**kwargs) as s:
        return s.run(start, end)
