"""Benchmarks: each ``bench_<part>`` module has ``run() -> list[dict]``; ``python -m bench`` prints one table."""
