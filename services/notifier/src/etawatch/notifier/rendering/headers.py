"""Header values that cannot break out of their header.

``EmailMessage`` with the default policy already refuses CR and LF in header values; this makes
sure nothing a customer or a supplier wrote ever gets that far: every control or line-separator
character becomes a space, runs of spaces become one, and values have a bounded length.
"""

import re
import unicodedata

_BREAKING = {"Cc", "Cf", "Zl", "Zp"}


def header_text(value: str, limit: int = 200) -> str:
    cleaned = "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in value)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    return cleaned[:limit].rstrip()
