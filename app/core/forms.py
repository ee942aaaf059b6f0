"""Typed form input (issue #10, item 4): a schema is a dataclass whose fields say what they accept.

    @dataclass
    class CheckoutForm:
        serial: Annotated[str, Text(max_len=80, required=True)]
        days: Annotated[int | None, Int(min=1, max=90)] = None
        deposit: Annotated[Decimal | None, Money(min=0)] = None
        version: Annotated[int, Version()] = 0

    data, errors = parse(CheckoutForm, await form_data(request))   # errors: {field: message}
    data = parse_or_raise(CheckoutForm, raw)                          # raises fix(**errors)

Rules held here for every form (issue #11): no control characters (tab and newline only where a field
is multi-line), no NUL, no lone surrogates; integers inside their column's range; money with at most
two decimals and never NaN/Infinity; impossible dates refused; a missing or unreadable `version` is
an error, never "no check". Fields without an `Annotated` spec are read by their type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import types
import typing
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Iterable, TypeVar

from app.core.dates import parse_date
from app.core.errors import DomainError, fix
from app.core.i18n import _
from app.core.money import MoneyError, parse_money

T = TypeVar("T")
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class FieldError(ValueError):
    """Raised by a field spec; parse() turns it into `errors[field] = message`."""


def _last(raw: Any) -> Any:
    if isinstance(raw, list):
        return raw[-1] if raw else ""
    return raw


def clean_text(value: Any, *, multiline: bool = False) -> str:
    """Refuse (FieldError) control characters, NUL and lone surrogates; strip surrounding blanks."""
    text = "" if value is None else str(value)
    if _SURROGATE.search(text):
        raise FieldError(_("Contains characters that cannot be stored."))
    pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE
    if pattern.search(text):
        raise FieldError(_("Contains control characters; type plain text."))
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def strip_control(value: Any) -> Any:
    """For exports: drop control characters a row may still hold (never fail a whole file on one cell)."""
    if isinstance(value, str):
        return _SURROGATE.sub("", _CONTROL.sub("", value))
    return value


@dataclasses.dataclass(frozen=True)
class Text:
    max_len: int = 200
    required: bool = False
    multiline: bool = False
    min_len: int = 0

    def parse(self, raw: Any) -> str:
        text = clean_text(_last(raw), multiline=self.multiline)
        if not text:
            if self.required:
                raise FieldError(_("Required."))
            return ""
        if len(text) > self.max_len:
            raise FieldError(_("At most %(n)s characters.", n=self.max_len))
        if len(text) < self.min_len:
            raise FieldError(_("At least %(n)s characters.", n=self.min_len))
        return text


@dataclasses.dataclass(frozen=True)
class Int:
    min: int | None = 0
    max: int = INT32_MAX
    required: bool = False

    def parse(self, raw: Any) -> int | None:
        text = clean_text(_last(raw))
        if not text:
            if self.required:
                raise FieldError(_("Required."))
            return None
        if not re.fullmatch(r"[+-]?\d{1,19}", text):
            raise FieldError(_("Enter a whole number."))
        value = int(text)
        if self.min is not None and value < self.min:
            raise FieldError(_("At least %(n)s.", n=self.min))
        if value > self.max:
            raise FieldError(_("At most %(n)s.", n=self.max))
        return value


@dataclasses.dataclass(frozen=True)
class Version(Int):
    """The version a form showed: required, so a stale-edit check can never be skipped."""

    min: int | None = 1
    required: bool = True

    def parse(self, raw: Any) -> int | None:
        try:
            return super().parse(raw)
        except FieldError:
            raise FieldError(_("This form is out of date; reload the page.")) from None


@dataclasses.dataclass(frozen=True)
class Money:
    min: Decimal | int | None = 0
    max: Decimal | int | None = None
    required: bool = False
    positive: bool = False

    def parse(self, raw: Any) -> Decimal | None:
        text = clean_text(_last(raw))
        if not text:
            if self.required:
                raise FieldError(_("Required."))
            return None
        try:
            value = parse_money(text)
        except MoneyError:
            raise FieldError(_("Enter an amount such as 1280.00 (at most two decimals).")) from None
        if self.positive and value <= 0:
            raise FieldError(_("Must be more than zero."))
        if self.min is not None and value < Decimal(self.min):
            raise FieldError(_("At least %(n)s.", n=self.min))
        if self.max is not None and value > Decimal(self.max):
            raise FieldError(_("At most %(n)s.", n=self.max))
        return value


@dataclasses.dataclass(frozen=True)
class Date:
    required: bool = False
    not_future: bool = False
    earliest: dt.date | None = None

    def parse(self, raw: Any) -> dt.date | None:
        text = clean_text(_last(raw))
        try:
            value = parse_date(text)
        except (ValueError, OverflowError):
            raise FieldError(_("Enter a date such as 2026-03-01.")) from None
        if value is None:
            if self.required:
                raise FieldError(_("Required."))
            return None
        if self.earliest and value < self.earliest:
            raise FieldError(_("Enter a date such as 2026-03-01."))
        if self.not_future:
            from app.core.dates import today

            if value > today():
                raise FieldError(_("The date cannot be in the future."))
        return value


@dataclasses.dataclass(frozen=True)
class Choice:
    options: Any  # an Enum class, a mapping (code → label) or an iterable of codes
    required: bool = False

    def codes(self) -> list[str]:
        if isinstance(self.options, type) and issubclass(self.options, Enum):
            return [str(m.value) for m in self.options]
        return [str(o) for o in self.options]

    def parse(self, raw: Any) -> str:
        text = clean_text(_last(raw))
        if not text:
            if self.required:
                raise FieldError(_("Choose one."))
            return ""
        if text not in self.codes():
            raise FieldError(_("Choose one of the offered values."))
        return text


@dataclasses.dataclass(frozen=True)
class Bool:
    def parse(self, raw: Any) -> bool:
        return str(_last(raw) or "").strip().lower() in {"1", "true", "on", "yes", "y"}


@dataclasses.dataclass(frozen=True)
class ListOf:
    item: Any
    max_items: int = 1000

    def parse(self, raw: Any) -> list:
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        if len(values) > self.max_items:
            raise FieldError(_("At most %(n)s entries.", n=self.max_items))
        out = []
        for value in values:
            parsed = self.item.parse(value)
            if parsed not in (None, ""):
                out.append(parsed)
        return out


def _spec_for(hint: Any) -> Any:
    """The spec of a field: its Annotated metadata, or one read from the plain type."""
    if typing.get_origin(hint) is Annotated:
        for meta in typing.get_args(hint)[1:]:
            if hasattr(meta, "parse"):
                return meta
        hint = typing.get_args(hint)[0]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    if hint is bool:
        return Bool()
    if hint is int:
        return Int()
    if hint is Decimal:
        return Money()
    if hint is dt.date:
        return Date()
    if typing.get_origin(hint) is list:
        return ListOf(_spec_for(typing.get_args(hint)[0]))
    return Text()


_HINTS: dict[type, dict[str, Any]] = {}


def _specs(schema: type) -> dict[str, Any]:
    if schema not in _HINTS:
        hints = typing.get_type_hints(schema, include_extras=True)
        _HINTS[schema] = {f.name: _spec_for(hints[f.name]) for f in dataclasses.fields(schema) if f.init}
    return _HINTS[schema]


def parse(schema: type[T], data: dict[str, Any] | None) -> tuple[T | None, dict[str, str]]:
    """Read `data` (a form as a dict) into `schema`; returns (object, {}) or (None, field errors)."""
    data = data or {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, spec in _specs(schema).items():
        field = next(f for f in dataclasses.fields(schema) if f.name == name)
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        if name not in data and has_default and not getattr(spec, "required", False):
            continue
        try:
            values[name] = spec.parse(data.get(name))
        except FieldError as exc:
            errors[name] = str(exc)
    if errors:
        return None, errors
    obj = schema(**values)
    check = getattr(obj, "validate", None)
    if callable(check):  # cross-field rules: `def validate(self) -> dict[str, str]`
        errors = check() or {}
        if errors:
            return None, errors
    return obj, {}


def parse_or_raise(schema: type[T], data: dict[str, Any] | None) -> T:
    """parse(), raising the shared 400 `DomainError` with the field messages."""
    obj, errors = parse(schema, data)
    if errors:
        raise fix(**errors)
    assert obj is not None
    return obj


def path_id(value: Any) -> int:
    """An id from the URL: anything that is not a positive 64-bit integer is a 404, never a 500."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        number = 0
    if number < 1 or number > INT64_MAX:
        raise DomainError(_("There is nothing at this address."), status=404)
    return number


def fields_of(schema: type) -> Iterable[str]:
    return _specs(schema).keys()


# Shared field types (issue #10): one spelling of the fields every domain's forms carry.
#     version: FormVersion = 0        note: Note = ""        when: OptDate = None
FormVersion = Annotated[int, Version()]                              # the hidden compare-and-set version
Flag = Annotated[bool, Bool()]                                       # a checkbox
Line = Annotated[str, Text(max_len=300)]                             # a one-line remark
Note = Annotated[str, Text(max_len=1000, multiline=True)]            # a note / remark box
LongNote = Annotated[str, Text(max_len=2000, multiline=True)]
FreeText = Annotated[str, Text(max_len=10000, multiline=True)]       # a long free text (descriptions, letters)
Reason = Annotated[str, Text(max_len=500, multiline=True)]           # why (refusal, withdrawal, adjustment …)
Serial = Annotated[str, Text(max_len=100)]                           # a scanned serial number
Token = Annotated[str, Text(max_len=64)]                             # a one-time form token
RowId = Annotated[int | None, Int(min=1)]                            # a picked row (customer, part, user …)
OptDate = Annotated[dt.date | None, Date()]
ReqDate = Annotated[dt.date | None, Date(required=True)]
