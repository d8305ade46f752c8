from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
