"""Text from outside (a caller, a file) made safe for a log line."""

from __future__ import annotations


def loggable(text: str) -> str:
    """``text`` with lone surrogates and control characters escaped.

    A lone surrogate cannot be encoded as UTF-8, so a log handler (SCF's, or a file) would fail on it;
    a newline would let a caller forge log lines.
    """
    escaped = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in escaped)
