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
import lib.app.runtime, lib.app.pipeline, lib.collectors, lib.rules, lib.notify, lib.state.repo, lib.state.cos
import lib.client, lib.config.loader, lib.messages, lib.api
assert callable(timer_handler.main_handler) and callable(api_handler.main_handler)
for name in ("lib.sandbox", "lib.notify.receiver", "pytest", "responses", "tencentcloud.teo"):
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


def test_package_imports_in_a_clean_interpreter(tmp_path: Path) -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    package = _build(tmp_path, here)
    # -I: isolated (no user site, no PYTHON* variables); -S: no site-packages; the package is the only path.
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path.insert(0, {str(package)!r}); " + IMPORTS,
            str(package),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "imports ok" in proc.stdout


def test_package_for_the_scf_runtime_carries_cpython_310_wheels(tmp_path: Path) -> None:
    package = _build(tmp_path, "3.10")
    natives = sorted(p.name for p in package.rglob("*.so"))
    assert natives, "pydantic-core and pyyaml ship compiled extensions"
    assert all("cpython-310-x86_64-linux-gnu" in name for name in natives), natives
    assert not list(package.rglob("sandbox")), "the sandbox is a development tool and does not ship"
    assert (package / "timer_handler.py").is_file() and (package / "api_handler.py").is_file()
