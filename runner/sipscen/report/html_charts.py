"""Load charts: placeholder."""
from __future__ import annotations


def load_charts(result):
    return []
