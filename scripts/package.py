"""Build the SCF code package: handlers, lib and the runtime wheels for the target interpreter.

    python scripts/package.py [--out build/package] [--python-version 3.10] [--zip build/budget-alerts.zip]
                              [--compile-with PYTHON]

The build itself lives in ``lib.deploy.package`` (``python -m lib deploy`` uses it too). The wheels are
for manylinux x86_64 and the given CPython version (SCF's Python 3.10 runtime by default).

SCF never writes byte code into the package, so a package without it compiles every module from source
on each cold start (about 0.3-0.5 s). When an interpreter of the target version is found (``pythonX.Y``
on PATH or under pyenv, or ``--compile-with``), the package ships unchecked-hash ``.pyc`` files built by
it; otherwise it ships source only and says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make lib importable
    sys.path.insert(0, str(ROOT))

from lib.deploy.package import SHIMS, build, compile_package, find_interpreter, make_zip  # noqa: E402

__all__ = ["SHIMS", "build", "compile_package", "find_interpreter", "main", "make_zip"]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
