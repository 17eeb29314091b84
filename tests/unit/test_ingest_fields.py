"""Each kind of ingest field and the JSON Schema it publishes agree on every value: what the document (read by an
ECMA-262 regex engine, here jsonschema-rs) calls valid, the reader accepts, and the other way round."""

from __future__ import annotations

import jsonschema_rs
import pytest

from wdtpanel.ingest.fields import Choice, Count, Moment, Money, Text
from wdtpanel.ingest.schema import MOBILE, PHONE

TEXTS = [
    "",
    "a",
    " a",
    "a ",
    "a b",
    "王小明",
    "\u3000",
    "王\u3000",
    "\u3000王",
    "a\nb",
    "a\tb",
    "a\r\n",
    "\x00",
    "a\x1cb",
    "a\x1f",
    "\x7f",
    "a\x85",
    "\x85a",
    "a\x9f",
    "\ufeffa",
    "a\ufeff",
    "\u200ba",
    "\u2028",
    "a\u2029b",
    "\U0001f431",
    "x" * 40,
    "x" * 41,
    "王" * 41,
    12,
    None,
    True,
    ["a"],
]
FIELDS = [
    Text(40),
    Text(40, required=True),
    Text(40, multi_line=True),
    Text(40, required=True, multi_line=True),
    Text(40, identifier=True),
    Text(40, required=True, identifier=True),
    Text(11, required=True, pattern=MOBILE),
    Text(32, pattern=PHONE),
]
VALUES = {
    "money": [
        "0",
        "12.50",
        "12.5000",
        "12.50000",
        "1E+14",
        "1e3",
        "-1",
        " 1",
        "1 ",
        "1.",
        ".5",
        "0x10",
        "１２",
        "9999999",
        "10000000",
        12,
        12.5,
        None,
        "",
    ],
    "moment": [
        "2026-11-29T10:00:00+08:00",
        "2026-11-29T10:00:00",
        "2026-11-29T10:00:00Z",
        "2026-11-29T10:00:00z",
        "2026-11-29t10:00:00",
        "2026-11-29 10:00:00",
        "2026-11-29",
        "2024-02-29T00:00:00",
        "2026-02-29T00:00:00",
        "2100-02-29T00:00:00",
        "2000-02-29T00:00:00",
        "2026-04-31T00:00:00",
        "2026-12-31T23:59:59.999999-23:59",
        "2026-12-31T23:59:59.1234567",
        "2026-12-31T24:00:00",
        "2026-12-31T23:60:00",
        "1999-12-31T23:59:59",
        "0001-01-01T00:00:00",
        "２０２６-11-29T10:00:00",
        "2026-11-29T10:00:00+08:00\n",
        None,
        20261129,
    ],
    "choice": ["paid", "Paid", "", " paid", None, 1],
    "count": [1, 99_999, 0, 100_000, 2.0, 2.5, "2", True, None, 1e300],
}
KINDS = {
    "money": Money(7, required=True),
    "moment": Moment(required=True),
    "choice": Choice(("paid",), required=True),
    "count": Count(1, 99_999),
}


def agree(field, value) -> tuple[bool, bool]:
    errors: dict[str, str] = {}
    field.read(value, "x", errors)
    document = jsonschema_rs.validator_for(
        {"type": "object", "properties": {"x": field.json_schema({})}, "required": ["x"] if field.required else []}
    )
    return document.is_valid({} if value is None and not field.required else {"x": value}), not errors


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f"{f.regex}|{f.max_len}")
def test_text_fields_agree_with_their_schema(field):
    disagreements = [(value, *agree(field, value)) for value in TEXTS if len(set(agree(field, value))) > 1]
    assert not disagreements, disagreements


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_other_fields_agree_with_their_schema(kind):
    field = KINDS[kind]
    disagreements = [(value, *agree(field, value)) for value in VALUES[kind] if len(set(agree(field, value))) > 1]
    assert not disagreements, disagreements


def test_a_lone_surrogate_is_refused_though_no_schema_can_say_it():
    errors: dict[str, str] = {}
    Text(40).read("a\ud800", "x", errors)
    assert "Unicode" in errors["x"]
