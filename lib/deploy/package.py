"""The SCF code package: handlers, lib and the runtime wheels for the target interpreter; zipped and digested.

``scripts/package.py`` (``make package``) and ``python -m lib deploy`` both build with this module.
The wheels are chosen for manylinux x86_64 and the given CPython version (SCF's Python 3.10 runtime by
default), whatever machine builds the package. Root-level shims are the SCF entry files
(``timer_handler.main_handler``, ``api_handler.main_handler``): SCF wants the entry file at the zip root.

The zip is reproducible (sorted entries, fixed times) and its digest covers names and contents but not
byte code, so rebuilding unchanged sources gives the same digest and ``deploy`` uploads nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# lib/ ships whole: the test doubles live in sandbox/ and tests/, outside it, so nothing is excluded by name.
SKIP_DIRS = {"__pycache__"}
SHIMS = {
    "timer_handler.py": '"""SCF entry file for the timer trigger."""\n\nfrom handlers.timer import main_handler\n\n'
    '__all__ = ["main_handler"]\n',
    "api_handler.py": '"""SCF entry file for the HTTP trigger (Function URL)."""\n\n'
    "from handlers.api import main_handler\n\n"
    '__all__ = ["main_handler"]\n',
}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry: no build time leaks in


def _copy_tree(src: Path, dst: Path) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in SKIP_DIRS for part in rel.parts):
            continue
        if path.is_file():
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def build(
    out: Path,
    python_version: str = "3.10",
    platform: str = "manylinux2014_x86_64",
    *,
    config_text: str | None = None,
    wheels: bool = True,
) -> Path:
    """The package folder at ``out`` (replaced). ``config_text`` replaces the example budgets.yaml."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    _copy_tree(ROOT / "lib", out / "lib")
    _copy_tree(ROOT / "handlers", out / "handlers")
    if config_text is not None:
        (out / "budgets.yaml").write_text(config_text, encoding="utf-8")
    elif (ROOT / "budgets.yaml").exists():  # the example config; deployments usually point BUDGET_CONFIG at COS
        shutil.copy2(ROOT / "budgets.yaml", out / "budgets.yaml")
    for name, text in SHIMS.items():
        (out / name).write_text(text, encoding="utf-8")
    if wheels:
        install_wheels(out, python_version, platform)
    for cache in out.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    return out


def install_wheels(out: Path, python_version: str, platform: str) -> None:
    """pip-install requirements.txt into ``out`` as binary wheels for the target interpreter and platform."""
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


def zip_bytes(folder: Path) -> bytes:
    """The folder as a reproducible zip: sorted entries, fixed times, 0644/0755 permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, path.read_bytes())
    return buffer.getvalue()


def make_zip(folder: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(zip_bytes(folder))
    return target


def code_digest(archive: bytes) -> str:
    """SHA-256 over the zip's entry names and contents, byte code left out (it is derived, and not reproducible)."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        for name in sorted(zf.namelist()):
            if name.endswith((".pyc", "/")) or "__pycache__/" in name:
                continue
            digest.update(name.encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(zf.read(name)).digest())
    return digest.hexdigest()


def with_config(archive: bytes, config_text: str) -> bytes:
    """A copy of ``archive`` whose ``budgets.yaml`` is ``config_text`` (for a package built beforehand)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: i.filename):
            if info.filename != "budgets.yaml":
                target.writestr(info, source.read(info))
        config = zipfile.ZipInfo("budgets.yaml", ZIP_TIME)
        config.compress_type = zipfile.ZIP_DEFLATED
        config.external_attr = (0o100000 | 0o644) << 16
        target.writestr(config, config_text.encode("utf-8"))
    return buffer.getvalue()
