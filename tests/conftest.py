"""Shared fixtures: small cities that build in milliseconds."""

from __future__ import annotations

import pytest

from laotie import graph


@pytest.fixture(scope="session")
def small_city() -> graph.TrustGraph:
    """Mudanjiang at 1/1000 scale: 2,540 residents, ten regions."""
    return graph.mudanjiang(scale=0.001, seed=11)


@pytest.fixture(scope="session")
def city_100k() -> graph.TrustGraph:
    """Mudanjiang at 100,000 residents (about a second to build)."""
    return graph.mudanjiang(scale=100_000 / 2_540_000, seed=2024)
