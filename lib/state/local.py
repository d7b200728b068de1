"""The local-folder object store (``BUDGET_STATE=file://<dir>``, the default): safe across processes.

Every write goes to a temporary file in the target's directory, is flushed and fsynced, and is then
published in one step: ``os.replace`` for ``put`` (atomic overwrite) and ``os.link`` for
``put_if_absent`` (atomic create that fails with EEXIST, the same exclusivity as ``O_EXCL`` but the
object appears with all its bytes, so a racing reader never sees a half-written marker). Where the file
system has no hard links, ``put_if_absent`` falls back to ``O_CREAT | O_EXCL`` and writes in place.
Files are binary: JSON written here has ``\\n`` line ends on every platform.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from pathlib import Path

from lib.errors import StoreError
from lib.state.store import Obj, ObjectStore, check_key, check_prefix, content_etag

_TEMP_PREFIX = ".tmp-"
_STALE_TEMP_SECONDS = 3600  # temp files a killed process left behind are swept by list() after this
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}
_WRITE_ATTEMPTS = 5  # a concurrent delete may remove an empty directory between mkdir and publish


class LocalStore(ObjectStore):
    """Objects as files under ``root``; keys map to relative paths (checked against traversal)."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, hard_links: bool = True) -> None:
        self.root = Path(root).expanduser()
        self._fsync = fsync
        self._hard_links = hard_links

    # -- helpers -----------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _sync_dir(self, directory: Path) -> None:
        if not self._fsync or os.name == "nt":  # Windows cannot open a directory to fsync it
            return
        try:
            fd = os.open(directory, os.O_RDONLY)
        except FileNotFoundError:
            return  # a concurrent delete removed the emptied folder: there is nothing left to make durable
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write_temp(self, directory: Path, data: bytes) -> Path:
        fd = _open_temp(directory)
        tmp = directory / fd[1]
        try:
            with os.fdopen(fd[0], "wb") as fh:
                fh.write(data)
                fh.flush()
                if self._fsync:
                    os.fsync(fh.fileno())
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return tmp

    def _error(self, action: str, key: str, exc: OSError) -> StoreError:
        transient = exc.errno in {errno.EAGAIN, errno.EINTR, errno.EBUSY, errno.ENOSPC}
        return StoreError(
            f"{action} {key!r} in {self.root}: {exc.strerror or exc}",
            code=errno.errorcode.get(exc.errno or 0, "OSError"),
            key=key,
            retryable=transient,
        )

    # -- primitives --------------------------------------------------------------------------------

    def get(self, key: str) -> Obj | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError as exc:
            # A folder where an object should be is damage to report, not "no object" (a lost ledger).
            raise StoreError(
                f"cannot read {key!r} in {self.root}: it is a folder, not a file", code="EISDIR", key=key
            ) from exc
        except OSError as exc:
            raise self._error("cannot read", key, exc) from exc
        return Obj(data, content_etag(data))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        for _ in range(_WRITE_ATTEMPTS):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self._write_temp(path.parent, data)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise self._error("cannot write", key, exc) from exc
            try:
                os.replace(tmp, path)
            except FileNotFoundError:
                _unlink_quietly(tmp)
                continue
            except OSError as exc:
                _unlink_quietly(tmp)
                raise self._error("cannot write", key, exc) from exc
            self._sync_dir(path.parent)
            return
        raise StoreError(f"cannot write {key!r} in {self.root}: directory kept vanishing", key=key, retryable=True)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        for _ in range(_WRITE_ATTEMPTS):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                created = self._link_new(path, data) if self._hard_links else self._create_exclusive(path, data)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise self._error("cannot create", key, exc) from exc
            if created is None:  # no hard links on this file system
                self._hard_links = False
                continue
            if created:
                self._sync_dir(path.parent)
            elif path.is_dir():
                raise StoreError(f"cannot create {key!r}: it is a folder of other objects", key=key, retryable=False)
            return created
        raise StoreError(f"cannot create {key!r} in {self.root}: directory kept vanishing", key=key, retryable=True)

    def _link_new(self, path: Path, data: bytes) -> bool | None:
        tmp = self._write_temp(path.parent, data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno in _NO_LINKS:
                return None
            raise
        finally:
            _unlink_quietly(tmp)
        return True

    def _create_exclusive(self, path: Path, data: bytes) -> bool:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if self._fsync:
                os.fsync(fh.fileno())
        return True

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            if exc.errno == errno.EPERM and path.is_dir():  # macOS reports unlink(dir) as EPERM
                return
            raise self._error("cannot delete", key, exc) from exc
        self._sync_dir(path.parent)
        # Drop folders the delete left empty, so pruned markers do not leave a trail of directories.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def list(self, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        head, _, _ = prefix.rpartition("/")
        base = self.root.joinpath(*head.split("/")) if head else self.root
        keys: list[str] = []
        now = time.time()
        for dirpath, dirnames, filenames in os.walk(base, onerror=lambda exc: self._walk_error(prefix, exc)):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).parts
            for name in filenames:
                if name.startswith(_TEMP_PREFIX):
                    _sweep_stale(Path(dirpath) / name, now)
                    continue
                if name.startswith("."):
                    continue
                key = "/".join((*rel, name))
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def _walk_error(self, prefix: str, exc: OSError) -> None:
        """A folder that is missing lists as empty; one that cannot be read (or is a file) is an error."""
        if isinstance(exc, FileNotFoundError):
            return
        raise self._error("cannot list", prefix or "/", exc) from exc

    def describe(self) -> str:
        return f"file://{self.root}"


def _open_temp(directory: Path) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = f"{_TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
        try:
            return os.open(directory / name, flags, 0o644), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(directory))


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # already gone: nothing to clean up
        path.unlink()


def _sweep_stale(path: Path, now: float) -> None:
    try:
        if now - path.stat().st_mtime > _STALE_TEMP_SECONDS:
            path.unlink()
    except FileNotFoundError:
        pass  # another process swept it first
