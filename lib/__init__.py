"""Budget alerts for Tencent Cloud: collect usage and cost, evaluate budgets, notify, keep state."""

__version__ = "0.1.0"
