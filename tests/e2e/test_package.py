"""``make package`` builds a code package that imports in a clean interpreter with only itself on the path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What SCF loads: the two entry shims, and through them every part a run touches.
IMPORTS = """
import sys
import timer_handler, api_handler
import lib.app.runtime, lib.app.pipeline, lib.sources, lib.rules, lib.notify, lib.state.repo, lib.state.cos
import lib.client, lib.config.loader, lib.messages, lib.api
assert callable(timer_handler.main_handler) and callable(api_handler.main_handler)
for name in ("sandbox", "sandbox.receivers", "pytest", "responses", "tencentcloud.teo"):
    try:
        __import__(name)
    except ImportError:
        continue
    raise SystemExit(f"{name} must not ship in the package")
outside = [m.__file__ for m in list(sys.modules.values())
           if getattr(m, "__file__", None) and not m.__file__.startswith((sys.argv[1], sys.base_prefix))]
assert not outside, outside
print("imports ok")
"""


def _build(tmp_path: Path, python_version: str) -> Path:
    out = tmp_path / f"package-{python_version}"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "package.py"),
            "--out",
            str(out),
            "--zip",
            str(tmp_path / f"package-{python_version}.zip"),
            "--python-version",
            python_version,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def _import_in_clean_interpreter(python: str, package: Path, cwd: Path) -> None:
    # -I: isolated (no user site, no PYTHON* variables); -S: no site-packages; the package is the only path.
    proc = subprocess.run(
        [
            python,
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path.insert(0, {str(package)!r}); " + IMPORTS,
            str(package),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stderr
    assert "imports ok" in proc.stdout


def test_package_imports_in_a_clean_interpreter(tmp_path: Path) -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    _import_in_clean_interpreter(sys.executable, _build(tmp_path, here), tmp_path)


@pytest.fixture(scope="module")
def package310(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as ``make package`` builds it for SCF, built once for the tests below."""
    return _build(tmp_path_factory.mktemp("package"), "3.10")


def test_package_for_the_scf_runtime_carries_cpython_310_wheels(package310: Path) -> None:
    package = package310
    natives = sorted(p.name for p in package.rglob("*.so"))
    assert natives, "pydantic-core and pyyaml ship compiled extensions"
    assert all("cpython-310-x86_64-linux-gnu" in name for name in natives), natives
    assert not list(package.rglob("sandbox")), "the sandbox is a development tool and does not ship"
    assert not list(package.rglob("receivers.py")), "the chat-robot receivers are test doubles and do not ship"
    lib_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "lib").rglob("*") if p.is_file()}
    lib_files = {f for f in lib_files if "__pycache__" not in f}
    shipped = {p.relative_to(package).as_posix() for p in (package / "lib").rglob("*") if p.is_file()}
    assert lib_files <= shipped, sorted(lib_files - shipped)  # lib/ ships whole
    assert (package / "timer_handler.py").is_file() and (package / "api_handler.py").is_file()


def test_package_imports_on_python_310_itself(package310: Path, tmp_path: Path) -> None:
    """The SCF runtime is CPython 3.10: where this machine has one, the real package must import on it."""
    from scripts.package import find_interpreter

    python310 = find_interpreter("3.10")
    if python310 is None:
        pytest.skip("no CPython 3.10 on this machine")
    package = package310
    assert list(package.glob("lib/__pycache__/*.cpython-310.pyc")), "byte code compiled for 3.10 ships"
    _import_in_clean_interpreter(python310, package, tmp_path)


def test_the_shipped_package_runs_the_timer_on_python_310(package310: Path, tmp_path: Path) -> None:
    """The real SCF path on the SCF runtime: package only, CPython 3.10, the timer event, sandbox and robots."""
    import json
    from datetime import datetime, timezone
    from decimal import Decimal

    from sandbox.demo import demo_environment
    from sandbox.receivers import Receiver
    from sandbox.server import Sandbox
    from scripts.package import find_interpreter
    from tests.e2e.live_support import (
        CONFIG,
        CONTEXT,
        TIMER_EVENT,
        charts_sent,
        expected_requests,
        expected_values,
        live_scenario,
        sent,
        wait_past_month_end,
    )

    python310 = find_interpreter("3.10")
    if python310 is None:
        pytest.skip("no CPython 3.10 on this machine")
    package = package310
    invoke = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import timer_handler; "
        "event = json.load(open(sys.argv[2])); context = json.load(open(sys.argv[3])); "
        "print(json.dumps(timer_handler.main_handler(event, context)))"
    )
    wait_past_month_end()
    with Sandbox(live_scenario(datetime.now(timezone.utc))) as sandbox, Receiver() as receiver:
        env = demo_environment(sandbox.url, receiver, str(tmp_path / "state"))
        env.update(
            BUDGET_CONFIG=str(CONFIG),
            TENCENTCLOUD_SECRETID=sandbox.secret_id,
            TENCENTCLOUD_SECRETKEY=sandbox.secret_key,
            HOME=str(tmp_path),
            PATH="/usr/bin:/bin",
        )
        runs = []
        for _ in range(2):
            proc = subprocess.run(
                [python310, "-I", "-S", "-c", invoke, str(package), str(TIMER_EVENT), str(CONTEXT)],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp_path,
                env=env,
            )
            assert proc.returncode == 0, proc.stderr
            runs.append(json.loads(proc.stdout))
        first, second = runs
        assert first["errors"] == []
        assert {e["budget"]: Decimal(str(e["value"])) for e in first["evaluations"]} == expected_values(sandbox.now)
        assert sent(first), "the crossings of the live scenario are told"
        assert len(receiver.received) == expected_requests(sent(first), len(charts_sent(first)))
        assert sent(second) == []
        assert len(receiver.received) == expected_requests(sent(first), len(charts_sent(first)))
