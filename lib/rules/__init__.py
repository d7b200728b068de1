"""The rules engine (pure): when to speak, once, and what to say. See ``lib.rules.engine``."""

from lib.rules.engine import Outcome, evaluate
from lib.rules.ledger import LEDGER_VERSION

__all__ = ["LEDGER_VERSION", "Outcome", "evaluate"]
