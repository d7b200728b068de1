"""Shared rig for the end-to-end fault tests: sandbox + receiver + real state + App, and the tally of what arrived.

The story every fault test starts from (scenario ``base_scenario``, configuration ``base_config``), as of
``T0`` = 2026-11-20 10:00 +08:00, 19 days 10 hours into November:

- zone ``zone-faulta`` serves a flat 500 GB/day of ``acc_flux``: 9.708 TB of a 10 TB budget (97 %), so
  ``traffic`` tells level 80 for that zone; ``zone-faultb`` (100 GB/day, 19 %) tells nothing;
- a fixed 48 yuan/day product makes November's bill 932 yuan: ``spend`` (limit 1000) tells level 90;
- the balance is 1500 - 932 = 568 yuan: ``balance`` (below 1000) fires.

Three notifications, all on the generic ``hook`` channel (one POST per notification, ``webhook-id`` = the
notification id), so the receiver can count each one. ``Stepper`` moves the sandbox's data clock and the
App's clock together, like a timer ticking every 10 minutes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from lib.app.runtime import App
from lib.client import ApiClient, Credentials
from lib.client.retry import RetryPolicy
from lib.config.loader import parse_config
from lib.state import open_store
from lib.state.cos import CosStore
from lib.state.repo import StateRepository
from lib.state.store import ObjectStore
from sandbox.receivers import Receiver
from sandbox.server import Sandbox

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=CST)
TICK = timedelta(minutes=10)
ZONE_A = "zone-faulta"
ZONE_B = "zone-faultb"
BUCKET = "state-1250000000"
REGION = "ap-guangzhou"
TOKEN = "faults-token-0123456789"

# What the first healthy run must tell: (budget, zone, kind, status, level).
TRAFFIC_80 = ("traffic", ZONE_A, "threshold", "firing", 80)
SPEND_90 = ("spend", "", "threshold", "firing", 90)
BALANCE_LOW = ("balance", "", "below", "firing", None)
FIRST_RUN = (TRAFFIC_80, SPEND_90, BALANCE_LOW)

Descriptor = tuple[str, str, str, str, Any]


def at(minutes: float) -> str:
    """An ISO instant ``minutes`` after T0 (for fault windows)."""
    return (T0 + timedelta(minutes=minutes)).isoformat()


def base_scenario(faults: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {
        "version": 1,
        "name": "faults",
        "seed": 7,
        "timezone": "Asia/Shanghai",
        "epoch": "2026-11-01T00:00:00+08:00",
        "clock": {"now": T0.isoformat()},
        "account": {"uin": 100000000001, "app_id": 1250000000},
        "plans": [
            {
                "id": "edgeone-faultplan",
                "type": "plan-enterprise",
                "enabled": "2026-01-01T00:00:00+08:00",
                "expires": "2027-01-01T00:00:00+08:00",
                "capacity": {"AccTrafficCapacity": "10 TB"},
            }
        ],
        "zones": [
            {
                "id": ZONE_A,
                "name": "a.example.com",
                "plan": "edgeone-faultplan",
                "created": "2026-01-01T00:00:00+08:00",
                "hosts": {"www.a.example.com": 1},
                "usage": {"acc_flux": {"daily": "500 GB"}},
            },
            {
                "id": ZONE_B,
                "name": "b.example.com",
                "plan": "edgeone-faultplan",
                "created": "2026-01-01T00:00:00+08:00",
                "hosts": {"www.b.example.com": 1},
                "usage": {"acc_flux": {"daily": "100 GB"}},
            },
        ],
        "billing": {
            "currency": "CNY",
            "as_of": "2026-11-01T00:00:00+08:00",
            "cash": 1500,
            "products": [{"code": "p_cvm", "name": "云服务器", "daily": 48}],
        },
        "faults": list(faults),
    }


def base_config(**extra_channels: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "timezone": "Asia/Shanghai",
        "language": "en",
        "channels": {
            "hook": {"type": "webhook", "url": "${WEBHOOK_URL}", "secret": "${WEBHOOK_SECRET}"},
            **extra_channels,
        },
        "budgets": [
            {
                "name": "traffic",
                "source": "teo",
                "metric": "acc_flux",
                "zones": ["*"],
                "group_by": ["zone-id"],
                "period": "month",
                "limit": "10TB",
                "thresholds": [50, 80, 100],
                "channels": ["hook"],
            },
            {
                "name": "spend",
                "source": "billing",
                "metric": "cost",
                "period": "month",
                "limit": 1000,
                "thresholds": [50, 90],
                "channels": ["hook"],
            },
            {"name": "balance", "source": "billing", "metric": "balance", "below": 1000, "channels": ["hook"]},
        ],
    }


class Stepper:
    """One clock for the sandbox's data and the App: ``tick()`` moves both, as the timer would.

    ``skip(delta)`` moves only the App's clock (claims, leases, retry times), so a test can jump past a
    retry schedule of hours without the usage moving on and crossing new levels.
    """

    def __init__(self, sandbox: Sandbox, start: datetime = T0) -> None:
        self.sandbox = sandbox
        self.ahead = timedelta(0)
        self.set(start)

    def set(self, when: datetime) -> None:
        self.current = when
        self.sandbox.set_now(when)

    def tick(self, delta: timedelta = TICK) -> datetime:
        self.set(self.current + delta)
        return self()

    def skip(self, delta: timedelta) -> datetime:
        self.ahead += delta
        return self()

    def __call__(self) -> datetime:
        return self.current + self.ahead


def fast_client(url: str, sandbox: Sandbox, **options: Any) -> ApiClient:
    """A real ApiClient with a short read timeout and two quick attempts, so faults cost little time."""
    options.setdefault("timeout", (1.0, 0.4))
    options.setdefault("retry", RetryPolicy(attempts=2, base=0.01, cap=0.02, deadline=5.0))
    return ApiClient(Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=url, **options)


@dataclass
class Rig:
    """Everything one fault test drives; build Apps with ``app()`` (one per simulated function instance)."""

    sandbox: Sandbox
    receiver: Receiver
    clock: Stepper
    env: dict[str, str]
    config: dict[str, Any]
    state: str  # "file" or "cos"
    state_dir: Path
    api_url: str
    proxy: MangleProxy | None = None
    apps: list[App] = field(default_factory=list)

    @property
    def state_url(self) -> str:
        return f"file://{self.state_dir}" if self.state == "file" else f"cos://{BUCKET}.{REGION}/faults"

    def store(self, **cos_options: Any) -> ObjectStore:
        """A fresh store object on the rig's state (``cos_options``: CosStore retries/timeouts)."""
        if self.state == "cos" and cos_options:
            creds = Credentials(self.sandbox.secret_id, self.sandbox.secret_key)
            return CosStore(BUCKET, REGION, "faults", creds, endpoint=self.sandbox.url, **cos_options)
        return open_store(self.state_url, environ=self.env)

    def app(self, *, client: ApiClient | None = None, store: ObjectStore | None = None) -> App:
        config = parse_config(yaml.safe_dump(self.config, allow_unicode=True), environ=self.env)
        app = App.from_env(
            self.env,
            config=config,
            client=client or fast_client(self.api_url, self.sandbox),
            store=store or self.store(),
            clock=self.clock,
        )
        self.apps.append(app)
        return app

    def repo(self) -> StateRepository:
        return StateRepository(self.store())

    def close(self) -> None:
        for app in self.apps:
            app.client.close()
            app.session.close()
            close = getattr(app.store, "close", None)
            if close is not None:
                close()


@contextlib.contextmanager
def rig(
    tmp_path: Path,
    *,
    faults: Sequence[Mapping[str, Any]] = (),
    state: str = "file",
    config: dict[str, Any] | None = None,
    proxy: bool = False,
) -> Iterator[Rig]:
    """Sandbox (with ``faults``) + receiver + state (``file`` folder or sandbox ``cos``) + an App factory."""
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(base_scenario(faults)))
        receiver = stack.enter_context(Receiver())
        api_url = sandbox.url
        mangler = stack.enter_context(MangleProxy(sandbox.url)) if proxy else None
        if mangler is not None:
            api_url = mangler.url
        state_dir = tmp_path / "state"
        env = {
            "BUDGET_STATE": f"file://{state_dir}" if state == "file" else f"cos://{BUCKET}.{REGION}/faults",
            "BUDGET_API_ENDPOINT": api_url,
            "BUDGET_COS_ENDPOINT": sandbox.url,
            "BUDGET_API_TOKEN": TOKEN,
            "TENCENTCLOUD_SECRETID": sandbox.secret_id,
            "TENCENTCLOUD_SECRETKEY": sandbox.secret_key,
            "WEBHOOK_URL": receiver.url("webhook"),
            "WEBHOOK_SECRET": receiver.secret("webhook"),
            "DINGTALK_URL": receiver.url("dingtalk"),
            "DINGTALK_SECRET": receiver.secret("dingtalk"),
            "WECOM_URL": receiver.url("wecom"),
        }
        the_rig = Rig(
            sandbox=sandbox,
            receiver=receiver,
            clock=Stepper(sandbox),
            env=env,
            config=config or base_config(),
            state=state,
            state_dir=state_dir,
            api_url=api_url,
            proxy=mangler,
        )
        stack.callback(the_rig.close)
        if state == "cos":
            # The bucket exists before the function runs (the sandbox creates a bucket at its first PUT).
            root = CosStore(
                BUCKET, REGION, "", Credentials(sandbox.secret_id, sandbox.secret_key), endpoint=sandbox.url
            )
            with contextlib.closing(root):
                root.put("created-by-tests", b"")
        yield the_rig


# -- what arrived ------------------------------------------------------------------------------------


def descriptor(payload: Mapping[str, Any]) -> Descriptor:
    group = payload.get("group") or {}
    return (
        str(payload.get("budget")),
        str(group.get("zone-id", "")),
        str(payload.get("kind")),
        str(payload.get("status")),
        payload.get("level"),
    )


@dataclass(frozen=True)
class Tally:
    """Accepted webhook POSTs against the notifications a fault test expects."""

    expected: int
    sent: int  # distinct expected notifications that arrived
    doubled: int  # arrivals beyond the first of the same notification (same id, or same crossing told again)
    lost: int  # expected notifications that never arrived
    unexpected: tuple[Descriptor, ...]  # arrivals nobody expected
    posts: int  # every POST the receiver saw on the webhook, refused ones included

    @property
    def exact(self) -> bool:
        return self.sent == self.expected and self.doubled == 0 and self.lost == 0 and not self.unexpected


def tally(receiver: Receiver, expected: Sequence[Descriptor]) -> Tally:
    hooks = [r for r in receiver.received if r.kind == "webhook"]
    accepted = [r for r in hooks if r.accepted and isinstance(r.json, dict)]
    by_descriptor: Counter[Descriptor] = Counter(descriptor(r.json) for r in accepted)
    ids_by_descriptor: dict[Descriptor, set[str]] = {}
    for r in accepted:
        ids_by_descriptor.setdefault(descriptor(r.json), set()).add(r.headers.get("webhook-id", ""))
    wanted = Counter(expected)
    sent = sum(min(by_descriptor[d], n) for d, n in wanted.items())
    doubled = sum(max(0, by_descriptor[d] - wanted.get(d, 0)) for d in by_descriptor if d in wanted)
    lost = sum(max(0, n - by_descriptor[d]) for d, n in wanted.items())
    unexpected = tuple(sorted((d for d in by_descriptor if d not in wanted), key=repr))
    return Tally(len(expected), sent, doubled, lost, unexpected, len(hooks))


_NOTIFICATION_ID = re.compile(r"ntf_[0-9a-f]{32}")


def chat_ids(receiver: Receiver, kind: str) -> Counter[str]:
    """Notification ids in the messages a chat robot accepted (each message names its notifications' ids)."""
    found: Counter[str] = Counter()
    for r in receiver.received:
        if r.kind == kind and r.accepted:
            found.update(set(_NOTIFICATION_ID.findall(r.body.decode("utf-8"))))
    return found


def hook_ids(receiver: Receiver) -> Counter[str]:
    """``webhook-id`` of every POST the generic webhook accepted."""
    return Counter(r.headers.get("webhook-id", "") for r in receiver.received if r.kind == "webhook" and r.accepted)


def report(fault: str, runs: int, result: Tally, note: str = "") -> None:
    """Print one row of the fault table (``pytest -s``); with FAULTS_TABLE=<file> also append it as JSON."""
    row = {
        "fault": fault,
        "runs": runs,
        "expected": result.expected,
        "sent": result.sent,
        "doubled": result.doubled,
        "lost": result.lost,
        "note": note,
    }
    print(
        f"\nFAULT | {fault} | runs {runs} | expected {result.expected} | sent {result.sent} | "
        f"doubled {result.doubled} | lost {result.lost}" + (f" | {note}" if note else "")
    )
    target = os.environ.get("FAULTS_TABLE")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def fired(sandbox: Sandbox) -> list[int]:
    """How many times each injected fault fired, in scenario order."""
    return [n for _, n in sandbox.scenario.fault_counts()]


def outcomes(result: Mapping[str, Any]) -> Counter[str]:
    return Counter(d["outcome"] for d in result["notifications"])


def rows(result: Mapping[str, Any], budget: str) -> list[dict[str, Any]]:
    return [e for e in result["evaluations"] if e["budget"] == budget]


# -- a proxy that spoils API answers -------------------------------------------------------------------

Mangle = str  # "html" | "truncated" | "cut" | "empty" | "no-response"


class MangleProxy:
    """Forwards API 3.0 requests to the sandbox unchanged (Host included, so signatures hold) and spoils
    the answers of chosen actions: ``spoil(action, mode, times)``.

    Modes: ``html`` (HTTP 200, an HTML gateway page), ``truncated`` (HTTP 200, the JSON cut in half with a
    matching Content-Length), ``cut`` (the full Content-Length announced, half the body sent, connection
    closed), ``empty`` (HTTP 200, no body), ``no-response`` (HTTP 200, JSON without ``Response``).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self._lock = threading.Lock()
        self._rules: dict[str, list[Mangle]] = {}
        self.spoiled: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def spoil(self, action: str, mode: Mangle, times: int = 1) -> None:
        with self._lock:
            self._rules.setdefault(action, []).extend([mode] * times)

    def _take(self, action: str) -> Mangle | None:
        with self._lock:
            queue = self._rules.get(action)
            if not queue:
                return None
            self.spoiled[action] += 1
            return queue.pop(0)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> MangleProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=10)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
                    answer = upstream.getresponse()
                    status, payload = answer.status, answer.read()
                    content_type = answer.getheader("Content-Type", "application/json")
                    date = answer.getheader("Date")
                finally:
                    upstream.close()
                mode = proxy._take(self.headers.get("X-TC-Action", ""))
                if mode == "html":
                    status, content_type = 200, "text/html"
                    payload = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                elif mode == "truncated":
                    payload = payload[: len(payload) // 2]
                elif mode == "empty":
                    payload = b""
                elif mode == "no-response":
                    payload = b'{"Result": "ok"}'
                announced = len(payload)
                if mode == "cut":
                    payload = payload[: len(payload) // 2]
                    self.close_connection = True
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(announced))
                if date:
                    self.send_header("Date", date)
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

            do_GET = do_POST

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def api_status(app: App) -> dict[str, Any]:
    """GET /status through the API handler, as API gateway would call it."""
    import lib.api as api_lib
    from handlers import api

    previous = api_lib.current_app()
    api_lib.set_app(app)
    try:
        event = {
            "httpMethod": "GET",
            "path": "/status",
            "headers": {"Authorization": f"Bearer {TOKEN}"},
            "queryString": {},
            "requestContext": {"httpMethod": "GET", "path": "/status", "stage": "release"},
        }
        response = api.main_handler(event, {})
    finally:
        api_lib.set_app(previous)
    assert response["statusCode"] == 200, response
    document: dict[str, Any] = json.loads(response["body"])
    return document


def timer_event() -> dict[str, Any]:
    path = Path(__file__).resolve().parents[2] / "events" / "timer.json"
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


@contextlib.contextmanager
def timer_app(app: App) -> Iterator[Callable[[], dict[str, Any]]]:
    """``handlers.timer`` with ``app`` as its warm instance; yields ``invoke()`` (the same event each time)."""
    from handlers import timer
    from lib.app import instance

    previous = instance._slot.app
    instance._slot.app = app
    event = timer_event()
    try:
        yield lambda: timer.main_handler(event, {})
    finally:
        instance._slot.app = previous
