"""Checks that the experiments' tests share (imported as ``tests.experiments.checks``)."""

from __future__ import annotations

import pandas as pd


def brackets(table: pd.DataFrame) -> None:
    """Every ``<column>_low`` ≤ ``<column>`` ≤ ``<column>_high`` where the interval is given."""
    for column in table.columns:
        low, high = f"{column}_low", f"{column}_high"
        if low in table.columns and high in table.columns:
            defined = table[low].notna()
            assert (table.loc[defined, low] <= table.loc[defined, column] + 1e-9).all(), column
            assert (table.loc[defined, column] <= table.loc[defined, high] + 1e-9).all(), column
