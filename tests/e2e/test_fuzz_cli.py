"""Hostile input to ``python -m lib``: every refusal is exit 2 with one clear ``error:`` line, no traceback.

``validate --config <hostile file>``, ``check --at <garbage>`` and ``invoke api|timer --event <garbage>``,
as real subprocesses (a few) and in process under hypothesis (many); a secret planted in the
environment never appears in what the command prints.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.cli import main

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRETS = {
    "TENCENTCLOUD_SECRETID": "AKIDclifuzz000000001",
    "TENCENTCLOUD_SECRETKEY": "tcsecretkey-abcdef0123456789",
    "BUDGET_API_TOKEN": "apitoken-d00dfeed-1234",
    "WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecomkey-5b1e0c77d2",
    "DINGTALK_SECRET": "SECdingsecret-41d7e2b9",
    "PLAIN": "plainvalue-hidden-c0ffee",
}


def _laughs(levels: int = 9) -> bytes:
    """The billion laughs: each level lists the previous one ten times (10^8 strings once expanded)."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, levels)]
    return ("\n".join(lines) + f"\nbudgets: *l{levels - 1}\n").encode()


HOSTILE_FILES: dict[str, bytes] = {
    "billion-laughs": _laughs(),
    "alias-cycle": b"budgets: &b [{name: x, channels: *b}]\n",
    "deep": b"budgets: " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
    "python-tag": b"timezone: !!python/object/apply:os.system ['echo pwned']\n",
    "nul": b"timezone: a\x00b\n",
    "invalid-utf8": b"timezone: \xc3\x28\n",
    "utf16": "timezone: UTC\n".encode("utf-16"),
    "huge-int": b"budgets:\n- limit: " + b"9" * 5000 + b"\n",
    "duplicate-key": b"timezone: UTC\ntimezone: UTC\n",
    "not-a-mapping": b"- a\n- b\n",
    "secret-in-timezone": b"timezone: ${TENCENTCLOUD_SECRETKEY}\n",
    "secret-in-names": (
        b"channels: {ops: {type: wecom, url: '${WECOM_URL}'}}\n"
        b"budgets: [{name: '${PLAIN}!', source: teo, metric: '${DINGTALK_SECRET}', limit: '${BUDGET_API_TOKEN}',"
        b" channels: ['${TENCENTCLOUD_SECRETID}']}]\n"
    ),
    "huge-number": b"budgets: [{name: b, source: billing, metric: balance, below: 100000000000000000000000000000}]\n",
}


def run_cli(args: list[str], tmp_path: Path, *, package: str = "lib") -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO), **SECRETS}
    env["BUDGET_CONFIG"] = str(tmp_path / "no-such-budgets.yaml")
    env["BUDGET_STATE"] = "memory://cli-fuzz"
    env["BUDGET_API_ENDPOINT"] = env["BUDGET_COS_ENDPOINT"] = "http://127.0.0.1:9"  # never the internet
    return subprocess.run(
        [sys.executable, "-m", package, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def assert_refused(code: int, out: str, err: str, *, one_line: bool = True) -> None:
    """Exit 2, nothing on stdout, a clear error on stderr, no traceback and no secret anywhere."""
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert lines, "a refusal must say why"
    assert "Traceback" not in err
    if one_line:
        assert len(lines) == 1 and lines[0].startswith("error: "), err
    else:  # validate: "<file>: N problems" and one "error: ..." line per problem
        assert all(line.startswith("error: ") for line in lines[1:]) and len(lines) >= 2, err
    for secret in SECRETS.values():
        assert secret not in out + err


# --- real subprocesses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_validate_refuses_hostile_files(name: str, tmp_path: Path) -> None:
    path = tmp_path / "budgets.yaml"
    path.write_bytes(HOSTILE_FILES[name])
    proc = run_cli(["validate", "--config", str(path)], tmp_path)
    # A file that cannot be read at all is one line; a file that parsed lists its problems.
    unreadable = name in {"invalid-utf8", "utf16"}
    assert_refused(proc.returncode, proc.stdout, proc.stderr, one_line=unreadable)
    if name.startswith("secret-in"):
        assert "${" in proc.stderr  # the variable is named instead of its value


@pytest.mark.parametrize(
    "config", ["", "/", "/dev/null/x", "cos://", "cos://bucket-1250000000.ap-guangzhou/", "cos://UP-1.ap-x/k"]
)
def test_validate_refuses_unusable_sources(config: str, tmp_path: Path) -> None:
    proc = run_cli(["validate", "--config", config], tmp_path)
    if config == "":  # --config '' falls back to $BUDGET_CONFIG, which does not exist
        assert "not found" in proc.stderr
    assert_refused(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize(
    "at",
    [
        "garbage",
        "",
        " ",
        "2026-13-45T00:00:00Z",
        "2026-11-22T10:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-12:00",
        "1999-12-31T23:59:59Z",
        "२०२६-११-२२T10:00:00Z",
        "2026-11-22T10:00:00Z; rm -rf /",
        "$(id)",
        "{{7*7}}",
        "2026-11-22T10:00:00Z\n",
    ],
)
def test_check_refuses_a_bad_instant(at: str, tmp_path: Path) -> None:
    proc = run_cli(["check", "--at", at], tmp_path)
    assert_refused(proc.returncode, proc.stdout, proc.stderr)
    assert "--at" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--port", "99999"],
        ["serve", "--port", "-1"],
        ["serve", "--port", "0x50"],
        ["sandbox", "cloud", "--port", "65536"],
        ["sandbox", "cloud", "--port", "８０"],  # full-width digits
    ],
)
def test_a_port_out_of_range_is_a_usage_error(args: list[str], tmp_path: Path) -> None:
    package, args = ("sandbox", args[1:]) if args[0] == "sandbox" else ("lib", args)
    proc = run_cli(args, tmp_path, package=package)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(("is not in 0-65535", "is not a port number"))


EVENT_FILES: dict[str, bytes | None] = {
    "missing": None,
    "empty": b"",
    "not-json": b"{'httpMethod': 'GET'}",
    "truncated": b'{"httpMethod": "GET", "path": "/st',
    "invalid-utf8": b'{"httpMethod": "\xff"}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "huge-int": b'{"httpMethod": ' + b"9" * 5000 + b"}",
    "nan": b'{"httpMethod": NaN',
}


@pytest.mark.parametrize("handler", ["api", "timer"])
@pytest.mark.parametrize("name", sorted(EVENT_FILES))
def test_invoke_refuses_an_unreadable_event(handler: str, name: str, tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    data = EVENT_FILES[name]
    if data is not None:
        path.write_bytes(data)
    proc = run_cli(["invoke", handler, "--event", str(path)], tmp_path)
    assert_refused(proc.returncode, proc.stdout, proc.stderr)
    assert "event file" in proc.stderr


def test_invoke_refuses_an_unreadable_context(tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text('{"httpMethod": "GET", "path": "/health"}', encoding="utf-8")
    (tmp_path / "context.json").write_bytes(b"\xff\xfe{")
    proc = run_cli(["invoke", "api", "--event", "event.json", "--context", "context.json"], tmp_path)
    assert_refused(proc.returncode, proc.stdout, proc.stderr)
    assert "context file" in proc.stderr


@pytest.mark.parametrize(
    "event",
    [
        [],
        "text",
        {"httpMethod": 5, "path": "/status"},
        {"httpMethod": "GET", "path": "../../etc/passwd"},
        {"httpMethod": "GET", "path": "/status", "headers": {"Authorization": "Bearer $(id)"}},
        {"httpMethod": "POST", "path": "/check", "body": "x" * 70_000},
        {"httpMethod": "POST", "path": "/check", "body": "@@", "isBase64Encoded": True},
    ],
)
def test_invoke_api_answers_a_hostile_event_with_a_4xx_document(event: Any, tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    proc = run_cli(["invoke", "api", "--event", "event.json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["statusCode"] in {400, 401, 413}
    assert set(json.loads(answer["body"])) == {"error"}
    assert "Traceback" not in proc.stdout + proc.stderr
    for secret in SECRETS.values():
        assert secret not in proc.stdout + proc.stderr


def test_invoke_timer_with_a_hostile_configuration_prints_a_failure_document(tmp_path: Path) -> None:
    (tmp_path / "budgets.yaml").write_bytes(HOSTILE_FILES["secret-in-names"])
    (tmp_path / "event.json").write_text('{"Type": "Timer", "Time": "garbage"}', encoding="utf-8")
    env_config = ["invoke", "timer", "--event", "event.json"]
    proc = subprocess.run(
        [sys.executable, "-m", "lib", *env_config],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO), **SECRETS}
        | {"BUDGET_CONFIG": "budgets.yaml", "BUDGET_STATE": "memory://x"}
        | {"BUDGET_API_ENDPOINT": "http://127.0.0.1:9", "BUDGET_COS_ENDPOINT": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["run_id"] is None and "budgets.yaml" in result["errors"][0]["message"]
    assert "Traceback" not in proc.stdout + proc.stderr
    for secret in SECRETS.values():
        assert secret not in proc.stdout + proc.stderr


# --- in process, under hypothesis ---------------------------------------------------------------------


def run_in_process(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, environ, clear=False),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a usage error is exit 2 as well
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def _safe_env(folder: str) -> dict[str, str]:
    return {
        **SECRETS,
        "BUDGET_CONFIG": os.path.join(folder, "no-such-budgets.yaml"),
        "BUDGET_STATE": "memory://cli-fuzz",
        "BUDGET_API_ENDPOINT": "http://127.0.0.1:9",
        "BUDGET_COS_ENDPOINT": "http://127.0.0.1:9",
    }


@SETTINGS
@given(st.text(max_size=60).filter(lambda s: not s.startswith("-")))
def test_check_at_random_text_is_refused_in_one_line(at: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        code, out, err = run_in_process(["check", "--at", at], _safe_env(folder))
    # A valid instant gets as far as the (missing) configuration: still exit 2 in one line.
    assert_refused(code, out, err)


@SETTINGS
@given(
    st.binary(max_size=400)
    | st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.sampled_from(list(HOSTILE_FILES.values()))
)
def test_validate_random_files_load_or_are_refused(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "budgets.yaml")
        with open(path, "wb") as handle:
            handle.write(data)
        code, out, err = run_in_process(["validate", "--config", path], _safe_env(folder))
    if code == 0:
        # A file without budgets is valid but watched nothing: validate says so on stderr.
        empty = out.startswith("ok: 0 budgets")
        assert out.startswith("ok: ") and err == (
            "warning: no budgets configured: nothing is monitored\n" if empty else ""
        )
    else:
        lines = err.strip().splitlines()
        assert_refused(code, out, err, one_line=len(lines) == 1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)


@SETTINGS
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_invoke_api_random_event_files(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "event.json")
        with open(path, "wb") as handle:
            handle.write(data)
        code, out, err = run_in_process(["invoke", "api", "--event", path], _safe_env(folder))
    if code == 0:
        answer = json.loads(out)
        assert 400 <= answer["statusCode"] < 500, answer
        assert "Traceback" not in out + err
        for secret in SECRETS.values():
            assert secret not in out + err
    else:
        assert_refused(code, out, err)
