"""The raw body of an ingest request as a JSON object, or a plain reason why not."""

from __future__ import annotations

import json
import re

# A JSON string (escapes included), and the brackets that nest; depth is counted outside strings.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


class BadJson(ValueError):
    pass


def _refuse_constant(name: str):
    raise BadJson(f"{name} is not JSON")


def parse_object(raw: bytes, max_depth: int) -> dict:
    """The JSON object in `raw` (UTF-8, nested at most `max_depth` levels); BadJson otherwise."""
    if not raw.strip():
        raise BadJson("body is empty: send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson("body is not UTF-8") from exc
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > max_depth:
            raise BadJson(f"body is nested more than {max_depth} levels deep")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:  # BadJson included
        raise BadJson(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadJson("body must be a JSON object")
    return data
