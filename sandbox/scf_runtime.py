"""Runs a deployed SCF handler as SCF would: from the unpacked code package, in a Python process of its own.

The child is ``python -c BOOTSTRAP <code dir> <handler>``: it puts the code directory first on
``sys.path`` (and makes it the working directory, like ``/var/user`` in SCF), reads
``{"event", "context"}`` as JSON on stdin, imports ``file.function`` from the Handler and calls it. The
handler's own prints go to stderr (the invocation log); stdout carries only the outcome document
``{"ok": true, "result": ...}`` or ``{"ok": false, "errorType", "errorMessage", "stackTrace"}``. A child
still running after the function's Timeout is killed and reported as SCF reports a timeout.

The environment is built from nothing (not inherited from the sandbox process), so a deployed function
sees only what was deployed: its Environment variables, the execution role's keys, and the variables
SCF itself sets (``TENCENTCLOUD_RUNENV=SCF``, ``SCF_FUNCTIONNAME``...).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOTSTRAP = r"""
import importlib, json, os, sys, traceback
code_dir, handler = sys.argv[1], sys.argv[2]
outcome = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr
sys.path.insert(0, code_dir)
os.chdir(code_dir)
payload = json.loads(sys.stdin.buffer.read().decode("utf-8"))
module_name, _, function_name = handler.rpartition(".")
try:
    function = getattr(importlib.import_module(module_name), function_name)
    value = function(payload["event"], payload["context"])
    text = json.dumps({"ok": True, "result": value}, ensure_ascii=False)
except BaseException as exc:
    text = json.dumps({"ok": False, "errorType": type(exc).__name__, "errorMessage": str(exc),
                       "stackTrace": traceback.format_exc()}, ensure_ascii=False)
outcome.write(text)
outcome.flush()
"""
# What a process needs to start at all; everything else comes from the function's configuration.
_HOST_VARIABLES = ("PATH", "SYSTEMROOT", "TMPDIR", "TZ")


class Running:
    """The child processes running a handler now (thread-safe); ``kill`` ends them as a dying instance would."""

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def __len__(self) -> int:
        with self._lock:
            return len(self._procs)

    def kill(self) -> int:
        """SIGKILL every running child; returns how many."""
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            proc.kill()
        return len(procs)


class CodeError(Exception):
    """The uploaded code package is not a usable zip file."""


@dataclass(frozen=True)
class Outcome:
    """One invocation: the handler's return value or its error, the log, and how long it took (ms)."""

    ok: bool
    result: Any
    error_type: str
    error_message: str
    log: str
    duration_ms: float

    @property
    def ret_msg(self) -> str:
        """The return value as SCF's ``Result.RetMsg`` carries it: JSON text (a string stays as it is)."""
        if not self.ok:
            return ""
        return self.result if isinstance(self.result, str) else json.dumps(self.result, ensure_ascii=False)


def unpack(data: bytes, root: Path) -> Path:
    """Unpack a zip into a fresh directory under ``root``; CodeError when it is not a safe zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise CodeError("the code package is not a zip file") from exc
    root.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="code-", dir=root))
    with archive:
        for member in archive.infolist():
            name = member.filename
            if name.startswith("/") or ".." in Path(name).parts:
                shutil.rmtree(target, ignore_errors=True)
                raise CodeError(f"the code package holds an unsafe path: {name}")
        try:
            archive.extractall(target)
        except (zipfile.BadZipFile, OSError) as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise CodeError(f"the code package cannot be unpacked: {exc}") from exc
    return target


def environment(variables: Mapping[str, str], system: Mapping[str, str]) -> dict[str, str]:
    """The child's whole environment: a few host basics, the function's variables, then SCF's own."""
    env = {name: os.environ[name] for name in _HOST_VARIABLES if name in os.environ}
    env.update({"LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(variables)
    env.update(system)  # SCF's own variables cannot be overridden by the function's (see scf.PROTECTED)
    return env


def run_handler(
    code_dir: Path,
    handler: str,
    event: Any,
    context: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    timeout: float,
    python: str = sys.executable,
    running: Running | None = None,
) -> Outcome:
    """Call ``handler`` from ``code_dir`` in a child process and wait for it (at most ``timeout`` s).

    ``running``: where the child is registered while it runs, so a test can kill it mid-run (as an
    instance dies in SCF); a killed child is reported as SCF reports a runtime that exited.
    """
    payload = json.dumps({"event": event, "context": dict(context)}, ensure_ascii=False).encode("utf-8")
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603 - the sandbox's own interpreter running the deployed code
        [python, "-c", BOOTSTRAP, str(code_dir), handler],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
    )
    if running is not None:
        running.add(proc)
    try:
        out, err = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        log = (err or b"").decode("utf-8", "replace")
        message = f"Invoking task timed out after {timeout:g} seconds"
        return Outcome(False, None, "TimeoutError", message, log, (time.monotonic() - started) * 1000)
    finally:
        if running is not None:
            running.discard(proc)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    elapsed = (time.monotonic() - started) * 1000
    log = done.stderr.decode("utf-8", "replace")
    try:
        doc = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        message = f"the runtime exited with status {done.returncode} without a result"
        return Outcome(False, None, "RuntimeExit", message, log, elapsed)
    if doc.get("ok"):
        return Outcome(True, doc.get("result"), "", "", log, elapsed)
    log += doc.get("stackTrace", "")
    return Outcome(False, None, str(doc.get("errorType")), str(doc.get("errorMessage")), log, elapsed)
