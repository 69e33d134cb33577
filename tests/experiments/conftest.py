"""The experiments' tests run whole experiments end to end: marked integration."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/experiments/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.integration)
