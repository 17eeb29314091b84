"""docs/wdt-protocol.md and the code say the same: every field row and code table matches wdt/fields.py, and every
rule or doubt the code names is an anchor of the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wdtpanel.wdt.fields import CODE_TABLES, RECORDS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "wdt-protocol.md").read_text("utf-8")
ANCHORS = set(re.findall(r'<a id="([^"]+)"></a>', DOC))
FIELD_ROW = re.compile(r'^\| <a id="(f-[^"]+)"></a>`[^`]+` \| (\w+) \| (\d*) \| (\w+) \| ([^|]*) \|', re.M)
ROWS = {
    anchor: (kind, length, required, values.strip())
    for anchor, kind, length, required, values in FIELD_ROW.findall(DOC)
}


def documented_values(field) -> str:
    if field.values is not None:
        return f"[{field.values.anchor}](#t-{field.values.anchor})"
    return f"{field.span[0]}..{field.span[1]}" if field.span else ""


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.anchor)
def test_each_field_has_its_row(record):
    for field in record.fields:
        anchor = record.field_anchor(field.name)
        assert ROWS.get(anchor) == (field.kind, str(field.length or ""), field.required, documented_values(field)), (
            anchor
        )


def test_no_row_without_a_field():
    fields = {record.field_anchor(field.name) for record in RECORDS for field in record.fields}
    assert set(ROWS) == fields


@pytest.mark.parametrize("table", CODE_TABLES, ids=lambda table: table.anchor)
def test_each_code_table_is_documented(table):
    block = DOC.split(f'<a id="t-{table.anchor}"></a>', 1)[1].split("\n\n", 2)[1]
    rows = dict(re.findall(r"^\| (-?\d+) \| (.+?) \|$", block, re.M))
    assert {int(code): meaning for code, meaning in rows.items()} == table.codes


def code_references() -> set[str]:
    """Rule ids the simulator records, and every anchor of docs/wdt-protocol.md the code and tests point to."""
    names = set()
    for path in [*(ROOT / "wdtpanel").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        text = path.read_text("utf-8")
        names |= set(re.findall(r"wdt-protocol\.md#([\w-]+)", text))
        if path.parts[-2] == "simulator":
            names |= set(re.findall(r'"(r-[a-z0-9-]+)"', text))
    return names


def test_every_rule_and_doubt_the_code_names_is_an_anchor():
    references = code_references()
    assert {"r-oid-unique", "r-quota", "r-ult-amounts", "doubt-switch"} <= references
    assert references - ANCHORS == set()


def test_every_link_on_the_page_lands():
    targets = set(re.findall(r"\]\(#([\w-]+)\)", DOC))
    assert targets - ANCHORS == set()
