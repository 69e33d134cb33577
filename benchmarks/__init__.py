"""Benchmarks of laotie, run with ``python -m benchmarks`` (see docs/performance.md)."""
