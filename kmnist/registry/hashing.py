"""Content checksums of files (sha256), as recorded in cards and vendor lists."""

from __future__ import annotations

import hashlib


def content_sha256(content: bytes) -> str:
    """The checksum a card records for a twin and for the model it was made from."""
    return hashlib.sha256(content).hexdigest()
