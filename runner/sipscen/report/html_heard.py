"""What was heard: placeholder until the spectrogram lands."""
from __future__ import annotations


def heard_view(result, check, base_dir):
    return None
