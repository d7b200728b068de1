"""Tencent Cloud credentials: the value type, and the lookup chain of DESIGN §3.2.

Order: explicit, SCF variables (``TENCENTCLOUD_SECRETID``...), SDK/tccli variables
(``TENCENTCLOUD_SECRET_ID``...), the tccli profile file ``~/.tccli/<profile>.credential``, the SDK
profile files ``~/.tencentcloud/credentials`` then ``/etc/tencentcloud/credentials``.

The official SDK's providers read ``os.environ`` and the real home directory themselves, carry no
token and do not know SCF's variable names, so the chain reads the same files in the same formats
from the environment it is given (tests compare both on the same files).
"""

from __future__ import annotations

import configparser
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lib.errors import CredentialError

SCF_VARIABLES = ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN")
SDK_VARIABLES = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_TOKEN")
SYSTEM_CREDENTIALS_FILE = Path("/etc/tencentcloud/credentials")


@dataclass(frozen=True)
class Credentials:
    """A SecretId/SecretKey pair, with the session token that temporary (role) credentials carry."""

    secret_id: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"Credentials(secret_id={self.secret_id[:6]}…, token={'set' if self.token else 'none'})"


def _checked(secret_id: str, secret_key: str, token: str | None, source: str) -> Credentials:
    """Refuse values the server would reject anyway, naming where they came from (never the value)."""
    for name, value in (("secret id", secret_id), ("secret key", secret_key), ("token", token or "")):
        if value != value.strip():
            raise CredentialError(f"{source}: the {name} has leading or trailing whitespace")
        if not value.isascii() or any(c in value for c in "\r\n"):
            raise CredentialError(f"{source}: the {name} is not a single line of ASCII text")
    return Credentials(secret_id, secret_key, token or None)


def from_variables(environ: Mapping[str, str], names: tuple[str, str, str]) -> Credentials | None:
    """Credentials from one family of variables; None when neither id nor key is set, an error when one is."""
    id_name, key_name, token_name = names
    secret_id, secret_key = environ.get(id_name, ""), environ.get(key_name, "")
    if not secret_id and not secret_key:
        return None
    if not secret_id or not secret_key:
        present, missing = (id_name, key_name) if secret_id else (key_name, id_name)
        raise CredentialError(f"{present} is set but {missing} is empty or missing")
    return _checked(secret_id, secret_key, environ.get(token_name), f"{id_name}/{key_name}")


def home_directory(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return Path(home) if home else Path.home()


def from_tccli_profile(path: Path) -> Credentials | None:
    """tccli's JSON ``<profile>.credential``: ``{"secretId": ..., "secretKey": ..., "token": ...}``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CredentialError(f"{path}: not valid JSON (line {getattr(exc, 'lineno', '?')})") from exc
    if not isinstance(data, dict):
        raise CredentialError(f"{path}: expected a JSON object")
    secret_id, secret_key = data.get("secretId") or "", data.get("secretKey") or ""
    if not isinstance(secret_id, str) or not isinstance(secret_key, str):
        raise CredentialError(f"{path}: secretId and secretKey must be strings")
    if not secret_id and not secret_key:
        return None  # a profile for a role or SSO login, which this tool does not perform
    if not secret_id or not secret_key:
        raise CredentialError(f"{path}: has {'secretId' if secret_id else 'secretKey'} but not the other")
    token = data.get("token")
    return _checked(secret_id, secret_key, token if isinstance(token, str) else None, str(path))


def from_ini_profile(path: Path, section: str = "default") -> Credentials | None:
    """The SDK's INI file: ``[default]`` with ``secret_id``, ``secret_key`` (and optionally ``token``)."""
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise CredentialError(f"{path}: cannot read the credentials file ({type(exc).__name__})") from exc
    if not parser.has_section(section):
        return None
    values = {k: v.strip() for k, v in parser.items(section)}
    secret_id, secret_key = values.get("secret_id", ""), values.get("secret_key", "")
    if not secret_id and not secret_key:
        return None
    if not secret_id or not secret_key:
        raise CredentialError(f"{path} [{section}]: has {'secret_id' if secret_id else 'secret_key'} but not the other")
    return _checked(secret_id, secret_key, values.get("token") or None, f"{path} [{section}]")


def profile_files(environ: Mapping[str, str], system_file: Path | None = SYSTEM_CREDENTIALS_FILE) -> list[Path]:
    """The files the chain reads, in order (``TCCLI_PROFILE`` selects the tccli profile, default ``default``)."""
    home = home_directory(environ)
    profile = environ.get("TCCLI_PROFILE") or "default"
    files = [home / ".tccli" / f"{profile}.credential", home / ".tencentcloud" / "credentials"]
    if system_file is not None:
        files.append(system_file)
    return files


def resolve_credentials(
    environ: Mapping[str, str] | None = None,
    explicit: Credentials | None = None,
    *,
    system_file: Path | None = SYSTEM_CREDENTIALS_FILE,
) -> Credentials:
    """The first credential found: explicit, SCF variables, SDK variables, then the profile files.

    Raises CredentialError naming the variables and files it looked at; never returns an empty credential.
    """
    if explicit is not None:
        if not explicit.secret_id or not explicit.secret_key:
            raise CredentialError("the explicit credentials have an empty secret id or secret key")
        return _checked(explicit.secret_id, explicit.secret_key, explicit.token, "explicit credentials")
    env: Mapping[str, str] = os.environ if environ is None else environ
    for names in (SCF_VARIABLES, SDK_VARIABLES):
        found = from_variables(env, names)
        if found is not None:
            return found
    files = profile_files(env, system_file)
    for path in files:
        found = from_tccli_profile(path) if path.suffix == ".credential" else from_ini_profile(path)
        if found is not None:
            return found
    raise CredentialError(
        "no Tencent Cloud credentials found: set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY "
        "(+ TENCENTCLOUD_SESSIONTOKEN; SCF sets these for the execution role) or TENCENTCLOUD_SECRET_ID and "
        "TENCENTCLOUD_SECRET_KEY (+ TENCENTCLOUD_TOKEN), or write one of: " + ", ".join(str(p) for p in files)
    )
