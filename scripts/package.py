"""Build the SCF code package: handlers, lib and the runtime wheels for the target interpreter.

    python scripts/package.py [--out build/package] [--python-version 3.10] [--zip build/budget-alerts.zip]
                              [--compile-with PYTHON]

The wheels are chosen for manylinux x86_64 and the given CPython version (SCF's Python 3.10 runtime by
default), whatever machine builds the package. Root-level shims are the SCF entry files
(``timer_handler.main_handler``, ``api_handler.main_handler``): SCF wants the entry file at the zip root.

SCF never writes byte code into the package, so a package without it compiles every module from source
on each cold start (about 0.3-0.5 s). When an interpreter of the target version is found (``pythonX.Y``
on PATH or under pyenv, or ``--compile-with``), the package ships unchecked-hash ``.pyc`` files built by
it; otherwise it ships source only and says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# lib/ ships whole: the test doubles live in sandbox/ and tests/, outside it, so nothing is excluded by name.
SKIP_DIRS = {"__pycache__"}
SHIMS = {
    "timer_handler.py": '"""SCF entry file for the timer trigger."""\n\nfrom handlers.timer import main_handler\n\n'
    '__all__ = ["main_handler"]\n',
    "api_handler.py": '"""SCF entry file for the API-gateway trigger."""\n\nfrom handlers.api import main_handler\n\n'
    '__all__ = ["main_handler"]\n',
}


def _copy_tree(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in SKIP_DIRS for part in rel.parts):
            continue
        if path.is_file():
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def build(out: Path, python_version: str, platform: str) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    _copy_tree(ROOT / "lib", out / "lib")
    _copy_tree(ROOT / "handlers", out / "handlers")
    if (ROOT / "budgets.yaml").exists():  # the example config; deployments usually point BUDGET_CONFIG at COS
        shutil.copy2(ROOT / "budgets.yaml", out / "budgets.yaml")
    for name, text in SHIMS.items():
        (out / name).write_text(text, encoding="utf-8")
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(out),
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            "--platform",
            platform,
            "-r",
            str(ROOT / "requirements.txt"),
        ],
        check=True,
    )
    for cache in out.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    return out


def find_interpreter(python_version: str) -> str | None:
    """An interpreter of exactly ``python_version`` on this machine, or None."""
    candidates = [shutil.which(f"python{python_version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob(f"versions/{python_version}.*/bin/python{python_version}"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603 - an interpreter path found above
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == python_version:
            return candidate
    return None


def compile_package(folder: Path, interpreter: str) -> None:
    """Byte-compile with the target interpreter; unchecked-hash .pyc stay valid whatever the file times."""
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(folder)],
        check=True,
    )


def make_zip(folder: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder))
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "package"))
    parser.add_argument("--python-version", default="3.10")
    parser.add_argument("--platform", default="manylinux2014_x86_64")
    parser.add_argument("--zip", default=str(ROOT / "build" / "budget-alerts.zip"))
    parser.add_argument("--compile-with", help="interpreter of the target version for .pyc (default: search)")
    parser.add_argument("--no-compile", action="store_true", help="ship source only")
    args = parser.parse_args()
    folder = build(Path(args.out), args.python_version, args.platform)
    if not args.no_compile:
        interpreter = args.compile_with or find_interpreter(args.python_version)
        if interpreter:
            compile_package(folder, interpreter)
        else:
            print(f"package: no Python {args.python_version} found, shipping source only (slower cold starts)")
    archive = make_zip(folder, Path(args.zip))
    print(f"package: {folder} ({archive.stat().st_size / 1e6:.1f} MB zipped at {archive})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
