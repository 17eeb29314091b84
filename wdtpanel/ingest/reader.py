"""Reading the mall's JSON: every bad field is collected under its path, nothing half-read."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class InvalidInput(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Reader:
    """Reads fields of one JSON object; problems are collected, not raised, so all are reported."""

    def __init__(self, data, path: str, errors: dict[str, str]):
        self.path, self.errors = path, errors
        if not isinstance(data, dict):
            self.fail("", "must be an object / 必须是对象")
            data = {}
        self.data = data

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(self.at(key) if key else self.path or "body", message)

    def _present(self, key: str, required: bool):
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                self.fail(key, "is required / 必填")
            return None
        return value

    def text(self, key: str, max_len: int, required: bool = False, default: str = "") -> str:
        value = self._present(key, required)
        if value is None:
            return default
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            self.fail(key, "must be a string / 必须是字符串")
            return default
        value = str(value).strip()
        if len(value) > max_len:
            self.fail(key, f"must be at most {max_len} characters / 最多 {max_len} 个字符")
        return value

    def money(self, key: str, required: bool = False) -> Decimal:
        value = self._present(key, required)
        if value is None:
            return Decimal("0")
        if isinstance(value, (bool, float)):
            self.fail(key, "must be a decimal string such as \"12.50\" / 金额请用字符串，如 \"12.50\"")
            return Decimal("0")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(key, "must be a decimal amount / 必须是金额")
            return Decimal("0")
        if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -4 or amount >= Decimal("1e15"):
            self.fail(key, "must be a non-negative amount with at most 4 decimals / 必须是非负金额，最多 4 位小数")
            return Decimal("0")
        return amount

    def positive_int(self, key: str) -> int:
        value = self._present(key, True)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > 1_000_000:
            self.fail(key, "must be a positive whole number / 必须是正整数")
            return 0
        return value

    def moment(self, key: str, required: bool = False) -> datetime | None:
        """ISO 8601; a time without offset is taken as Asia/Shanghai (the mall's clock)."""
        value = self._present(key, required)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(key, "must be an ISO 8601 time such as 2026-11-29T10:00:00+08:00 / 时间格式错误")
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)

    def choice(self, key: str, choices, required: bool = False, default: str | None = None) -> str | None:
        value = self._present(key, required)
        if value is None:
            return default
        if value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)} / 取值无效")
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, "must be true or false / 必须是 true 或 false")
            return default
        return value

    def objects(self, key: str, max_items: int, required: bool = True) -> list["Reader"]:
        items = self.data.get(key)
        if items is None and not required:
            return []
        if not isinstance(items, list) or (required and not items):
            self.fail(key, "must be a non-empty list / 必须是非空数组")
            return []
        if len(items) > max_items:
            self.fail(key, f"must have at most {max_items} items / 最多 {max_items} 项")
            return []
        return [Reader(item, f"{self.at(key)}[{i}]", self.errors) for i, item in enumerate(items)]

    def child(self, key: str) -> "Reader":
        return Reader(self.data.get(key) or {}, self.at(key), self.errors)
