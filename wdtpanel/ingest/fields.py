"""The kinds of field the ingest API reads. Each kind both checks a value and describes itself as JSON Schema,
so the OpenAPI document and the validator come from one definition and cannot disagree.

What JSON Schema cannot say (a value unique within a list, sums across fields) is a `Rule`: checked here and
listed, in words, in the document (`x-rules`). Reading collects every problem under its path ("lines[0].price")
and raises once, so the mall hears of all of them and nothing half-read is stored."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Patterns are written once and used both by Python's `re` (with fullmatch) and, in the OpenAPI document, by
# ECMA-262 validators: only syntax the two read alike (explicit classes, \uXXXX escapes, non-capturing groups).
# No \s: Python and ECMA disagree on what it matches (U+0085, U+FEFF), so blanks are listed.
CONTROL = r"\u0000-\u001f\u007f-\u009f"  # C0, DEL and C1
CONTROL_BUT_LINE_BREAKS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"  # keeps \t \n \r
BLANK = rf"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff{CONTROL}"
ONE_LINE = rf"^[^{CONTROL}]*$"
ONE_LINE_VISIBLE = rf"^[^{CONTROL}]*[^{BLANK}][^{CONTROL}]*$"
MULTI_LINE = rf"^[^{CONTROL_BUT_LINE_BREAKS}]*$"
MULTI_LINE_VISIBLE = rf"^[^{CONTROL_BUT_LINE_BREAKS}]*[^{BLANK}][^{CONTROL_BUT_LINE_BREAKS}]*$"
IDENTIFIER = rf"^[^{BLANK}](?:[^{CONTROL}]*[^{BLANK}])?$"  # no control characters, nothing blank at the ends
# A time from 2000 to 2099 that exists (February 29 in leap years only), to the second, with an optional
# fraction and offset; without an offset it is Asia/Shanghai time.
_DAY = (
    r"(?:20[0-9]{2}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)|20(?:[02468][048]|[13579][26])-02-29)"
)
MOMENT = (
    rf"^{_DAY}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{1,6}})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)


def money_pattern(whole_digits: int) -> str:
    return rf"^[0-9]{{1,{whole_digits}}}(?:\.[0-9]{{1,4}})?$"


class InvalidInput(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def component_ref(name: str) -> dict:
    """A reference to the OpenAPI document's schema component `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


class Field:
    """A value in the JSON. `read` gets None for an absent key or null (the same thing to every field)."""

    required: bool = False
    description: str = ""

    def read(self, value: Any, path: str, errors: dict[str, str]) -> Any:
        raise NotImplementedError

    def schema(self, components: dict) -> dict:
        raise NotImplementedError

    def json_schema(self, components: dict) -> dict:
        schema = self.schema(components)
        if self.description:
            schema = {**schema, "description": self.description}
        return schema


def _nullable(schema: dict, required: bool) -> dict:
    """An optional field may also be null (the same as leaving it out)."""
    if required:
        return schema
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


def _required(errors: dict[str, str], path: str) -> None:
    errors.setdefault(path, "is required / 必填")


@dataclass
class Text(Field):
    """A string of at most `max_len` characters (Unicode code points, as WDT counts them), no control characters.
    A required text must contain something visible. `pattern` replaces the default one."""

    max_len: int
    required: bool = False
    multi_line: bool = False
    identifier: bool = False
    pattern: str | None = None
    description: str = ""
    hint: str = ""

    def __post_init__(self) -> None:
        self._compiled = re.compile(self.regex)

    @property
    def regex(self) -> str:
        if self.pattern:
            return self.pattern
        if self.identifier:
            return IDENTIFIER if self.required else f"^(?:{IDENTIFIER[1:-1]})?$"
        if self.multi_line:
            return MULTI_LINE_VISIBLE if self.required else MULTI_LINE
        return ONE_LINE_VISIBLE if self.required else ONE_LINE

    def read(self, value, path, errors) -> str:
        if value is None or (value == "" and not self.required):
            if self.required:
                _required(errors, path)
            return ""
        if not isinstance(value, str):
            errors.setdefault(path, "must be a string / 必须是字符串")
        elif not _is_unicode(value):
            errors.setdefault(path, "must be valid Unicode text (a lone surrogate is not) / 含有无效的 Unicode 字符")
        elif len(value) > self.max_len:
            errors.setdefault(path, f"must be at most {self.max_len} characters / 最多 {self.max_len} 个字符")
        elif not self._compiled.fullmatch(value):
            errors.setdefault(
                path,
                self.hint
                or (
                    "is required / 必填"
                    if self.required and not value.strip()
                    else "must not hold control characters or blank ends / 不能含控制字符，首尾不能是空白"
                ),
            )
        else:
            return value
        return ""

    def schema(self, components):
        minimum = {"minLength": 1} if self.required else {}
        return _nullable({"type": "string", **minimum, "maxLength": self.max_len, "pattern": self.regex}, self.required)


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Money(Field):
    """A non-negative decimal string with at most `whole_digits` digits before the point and 4 after."""

    whole_digits: int
    required: bool = False
    default: Decimal | None = Decimal("0")
    description: str = ""

    def __post_init__(self) -> None:
        self._compiled = re.compile(money_pattern(self.whole_digits))

    def read(self, value, path, errors) -> Decimal | None:
        if value is None:
            if self.required:
                _required(errors, path)
            return self.default
        if isinstance(value, str) and self._compiled.fullmatch(value):
            return Decimal(value)
        errors.setdefault(
            path,
            f'must be a decimal string such as "12.50" (at most {self.whole_digits} digits '
            f'before the point, 4 after) / 金额请用字符串，如 "12.50"',
        )
        return self.default

    def schema(self, components):
        return _nullable(
            {"type": "string", "pattern": money_pattern(self.whole_digits), "examples": ["12.50"]}, self.required
        )


@dataclass
class Moment(Field):
    """A time as in `MOMENT`; returned aware (Asia/Shanghai when the mall gave no offset)."""

    required: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        self._compiled = re.compile(MOMENT)

    def read(self, value, path, errors) -> datetime | None:
        if value is None:
            if self.required:
                _required(errors, path)
            return None
        if not isinstance(value, str) or not self._compiled.fullmatch(value):
            errors.setdefault(
                path, "must be a time from 2000 to 2099 such as 2026-11-29T10:00:00+08:00 / 时间格式错误或超出范围"
            )
            return None
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)

    def schema(self, components):
        return _nullable(
            {"type": "string", "pattern": MOMENT, "examples": ["2026-11-29T10:00:00+08:00"]}, self.required
        )


@dataclass
class Choice(Field):
    values: tuple[str, ...]
    required: bool = False
    default: str | None = None
    description: str = ""

    def read(self, value, path, errors) -> str | None:
        if value is None:
            if self.required:
                _required(errors, path)
            return self.default
        if not isinstance(value, str) or value not in self.values:
            errors.setdefault(path, f"must be one of {', '.join(self.values)} / 取值无效")
            return self.default
        return value

    def schema(self, components):
        return _nullable({"type": "string", "enum": list(self.values)}, self.required)


@dataclass
class Count(Field):
    """A whole number within [minimum, maximum]. As in JSON Schema, 2.0 is the whole number 2."""

    minimum: int
    maximum: int
    required: bool = True
    description: str = ""

    def read(self, value, path, errors) -> int:
        if value is None:
            _required(errors, path)
            return 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            errors.setdefault(
                path,
                f"must be a whole number from {self.minimum} to {self.maximum} "
                f"/ 必须是 {self.minimum} 到 {self.maximum} 的整数",
            )
            return 0
        return value

    def schema(self, components):
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass
class Flag(Field):
    default: bool
    description: str = ""

    def read(self, value, path, errors) -> bool:
        if value is None:
            return self.default
        if not isinstance(value, bool):
            errors.setdefault(path, "must be true or false / 必须是 true 或 false")
            return self.default
        return value

    def schema(self, components):
        return {"type": ["boolean", "null"], "default": self.default}


Checked = TypeVar("Checked")


@dataclass
class Rule(Generic[Checked]):
    """A check JSON Schema cannot express. `check` gets the object (or list) as read and yields (path relative to
    it, message) for each problem; `text` documents the rule in the OpenAPI document."""

    text: str
    check: Callable[[Checked], Iterable[tuple[str, str]]]


@dataclass
class RequiredWhen:
    """`field` is required (not null) when `when` is one of `values` (JSON Schema if/then)."""

    field: str
    when: str
    values: tuple[str, ...]


@dataclass
class Obj(Field):
    """A JSON object with known fields; other keys are ignored. A `name` makes it a reusable component."""

    required = True

    fields: Mapping[str, Field]
    name: str | None = None
    required_when: tuple[RequiredWhen, ...] = ()
    rules: tuple[Rule[dict], ...] = ()
    description: str = ""

    def read(self, value, path, errors) -> dict:
        if not isinstance(value, dict):
            errors.setdefault(path or "body", "must be an object / 必须是对象")
            value = {}
        before = len(errors)
        result = {key: item.read(value.get(key), at(path, key), errors) for key, item in self.fields.items()}
        for condition in self.required_when:
            if result.get(condition.when) in condition.values and value.get(condition.field) is None:
                errors.setdefault(
                    at(path, condition.field), f"is required when {condition.when} is {result[condition.when]} / 必填"
                )
        if len(errors) == before:  # rules read well-formed values only
            for rule in self.rules:
                for key, message in rule.check(result):
                    errors.setdefault(at(path, key), message)
        return result

    def schema(self, components):
        schema: dict[str, Any] = {
            "type": "object",
            "required": [key for key, item in self.fields.items() if item.required],
            "properties": {key: item.json_schema(components) for key, item in self.fields.items()},
        }
        if self.required_when:
            schema["allOf"] = [
                {
                    "if": {"properties": {c.when: {"enum": list(c.values)}}, "required": [c.when]},
                    "then": {"required": [c.field], "properties": {c.field: {"not": {"type": "null"}}}},
                }
                for c in self.required_when
            ]
        if self.rules:
            schema["x-rules"] = [rule.text for rule in self.rules]
        if self.name is None:
            return schema
        components[self.name] = {**schema, **({"description": self.description} if self.description else {})}
        return component_ref(self.name)

    def json_schema(self, components):
        return self.schema(components) if self.name else super().json_schema(components)


@dataclass
class Items(Field):
    """A list of `of`; `unique_by` names a field no two items may share (a rule: JSON Schema cannot say it)."""

    of: Field
    min_items: int
    max_items: int
    required: bool = True
    unique_by: str | None = None
    description: str = ""
    rules: tuple[Rule[list], ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        if self.unique_by:
            self.rules = (Rule(f"no two items share {self.unique_by}", self._repeats),)

    def read(self, value, path, errors) -> list:
        if value is None and not self.required:
            return []
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            errors.setdefault(
                path,
                f"must be a list of {self.min_items} to {self.max_items} items "
                f"/ 必须是 {self.min_items} 到 {self.max_items} 项的数组",
            )
            return []
        before = len(errors)
        items = [self.of.read(item, f"{path}[{index}]", errors) for index, item in enumerate(value)]
        if len(errors) == before:
            for rule in self.rules:
                for key, message in rule.check(items):
                    errors.setdefault(f"{path}{key}", message)
        return items

    def _repeats(self, items: list[dict]) -> Iterable[tuple[str, str]]:
        seen: set = set()
        for index, item in enumerate(items):
            if item[self.unique_by] in seen:
                yield f"[{index}].{self.unique_by}", "is repeated in this list / 重复"
            seen.add(item[self.unique_by])

    def schema(self, components):
        schema = {
            "type": "array",
            "minItems": self.min_items,
            "maxItems": self.max_items,
            "items": self.of.json_schema(components),
        }
        if self.rules:
            schema["x-rules"] = [rule.text for rule in self.rules]
        return _nullable(schema, self.required)


def read_or_refuse(shape: Field, data: Any) -> Any:
    """The body as `shape` reads it; InvalidInput naming every bad field when anything is wrong."""
    errors: dict[str, str] = {}
    value = shape.read(data, "", errors)
    if errors:
        raise InvalidInput(errors)
    return value
