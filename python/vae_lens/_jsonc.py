"""JSON with comments and trailing commas, as `*.vae.json` specs allow (jsonc-parser on the TS side)."""
from __future__ import annotations

import json
import re
from typing import Any

_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r'"(?:\\.|[^"\\])*"|,(?=\s*[}\]])')


def _keep_strings(m: "re.Match[str]") -> str:
    return m.group(0) if m.group(0).startswith('"') else ""


def loads(text: str) -> Any:
    """Parse JSONC: comments, then trailing commas, outside strings are dropped; strings are kept whole."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return json.loads(_TRAILING_COMMA.sub(_keep_strings, _COMMENT.sub(_keep_strings, text)))
