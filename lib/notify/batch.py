"""Packing many notifications into few messages under a platform's size limit.

Sizes are UTF-8 bytes (WeCom counts bytes); a split never cuts inside a UTF-8 sequence and prefers a
line break. A block is one notification's text; blocks keep their notification id through the split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One notification's rendered text (or a piece of it, when it alone is too large)."""

    notification_id: str
    text: str


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def utf8_prefix(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` that is at most ``max_bytes`` UTF-8 bytes."""
    if max_bytes <= 0:
        return ""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    # Dropping the incomplete tail only removes the partial character at the cut.
    return data[:max_bytes].decode("utf-8", "ignore")


def clip(text: str, max_bytes: int) -> str:
    """``text`` cut to ``max_bytes`` UTF-8 bytes with an ellipsis when it was longer (titles, headers)."""
    if utf8_len(text) <= max_bytes:
        return text
    return utf8_prefix(text, max_bytes - 3) + "…"


def split_text(text: str, max_bytes: int) -> list[str]:
    """Pieces of at most ``max_bytes`` bytes each, cut at a line break when one is in the last quarter."""
    if max_bytes < 4:
        raise ValueError("max_bytes must leave room for one UTF-8 character")
    pieces: list[str] = []
    rest = text
    while utf8_len(rest) > max_bytes:
        head = utf8_prefix(rest, max_bytes)
        cut = head.rfind("\n")
        if cut >= 0 and utf8_len(head[:cut]) >= max_bytes * 3 // 4:
            head = head[: cut + 1]
        pieces.append(head)
        rest = rest[len(head) :]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def pack(
    blocks: Sequence[Block],
    *,
    max_bytes: int,
    overhead: int,
    separator: str,
    size: Callable[[str], int] = utf8_len,
    max_piece: int | None = None,
    max_count: int | None = None,
) -> list[list[Block]]:
    """Greedy groups whose joined text plus ``overhead`` stays within ``max_bytes`` (as ``size`` counts).

    A block larger than ``max_piece`` (or than the room left by ``overhead``) is split into pieces
    (same notification id); a group holds at most ``max_count`` pieces.
    """
    room = max_bytes - overhead
    piece_room = min(room, max_piece) if max_piece else room
    if room < 64:
        raise ValueError("the size limit leaves no room for content")
    sep = size(separator)
    groups: list[list[Block]] = []
    current: list[Block] = []
    used = 0
    for block in blocks:
        pieces = [block]
        budget = piece_room
        while any(size(piece.text) > piece_room for piece in pieces):
            # ``size`` may count more than UTF-8 bytes (JSON structure), so shrink until pieces fit.
            pieces = [Block(block.notification_id, part) for part in split_text(block.text, budget)]
            budget = budget * 4 // 5
            if budget < 16:
                raise ValueError("a piece of text cannot be made to fit the size limit")
        for piece in pieces:
            need = size(piece.text) + (sep if current else 0)
            full = max_count is not None and len(current) >= max_count
            if current and (used + need > room or full):
                groups.append(current)
                current, used = [], 0
                need = size(piece.text)
            current.append(piece)
            used += need
    if current:
        groups.append(current)
    return groups


def ids_of(group: Sequence[Block]) -> tuple[str, ...]:
    """Notification ids in a group, first-seen order, each once."""
    return tuple(dict.fromkeys(block.notification_id for block in group))
