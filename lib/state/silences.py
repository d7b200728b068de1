"""The silence store: ``silences/<id>.json``, one Silence each, at most MAX_ACTIVE_SILENCES unexpired."""

from __future__ import annotations

from datetime import datetime

from lib.errors import StateError
from lib.model import Silence
from lib.state.codec import Codec, Loaded, segment

# Every run reads every silence: a cap keeps a runaway script from making each run slower without end.
MAX_ACTIVE_SILENCES = 1000


class TooManySilences(StateError):
    """Creating one more silence would pass MAX_ACTIVE_SILENCES unexpired silences."""

    def __init__(self, active: int) -> None:
        super().__init__(
            f"there are {active} current or future silences, the most allowed is {MAX_ACTIVE_SILENCES}; "
            "delete some (DELETE /silences/{id}) before creating another",
            retryable=False,
        )
        self.active = active


def silence_key(silence_id: str) -> str:
    return f"silences/{segment(silence_id)}.json"


class SilenceStore:
    """Silences by id; read in full by every run."""

    def __init__(self, codec: Codec) -> None:
        self._codec = codec

    def list(self) -> Loaded[list[Silence]]:
        """Every silence, by start time then id; unreadable ones are moved aside and reported."""
        keys = self._codec.store.list("silences/")
        found = self._codec.map(
            lambda key: self._codec.load(key, "silence", lambda doc: Silence.from_dict(doc["silence"])), keys
        )
        silences = sorted((f.value for f in found if f.value is not None), key=lambda s: (s.starts_at, s.id))
        return Loaded(silences, [p for f in found for p in f.problems])

    def put(self, silence: Silence) -> None:
        self._codec.write(silence_key(silence.id), {"silence": silence.to_dict()})

    def add(self, silence: Silence, now: datetime) -> None:
        """Store a new silence unless MAX_ACTIVE_SILENCES current or future ones exist (TooManySilences)."""
        active = sum(1 for s in self.list().value if now < s.ends_at)
        if active >= MAX_ACTIVE_SILENCES:
            raise TooManySilences(active)
        self.put(silence)

    def delete(self, silence_id: str) -> bool:
        key = silence_key(silence_id)
        if self._codec.store.get_meta(key) is None:
            return False
        self._codec.store.delete(key)
        return True
