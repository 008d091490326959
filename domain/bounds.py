"""The one validation of every value that ends up in an event: the HTTP parsers, the CLI and
the domain's own guards call these, so nothing is recorded that the read models cannot store.

Each check raises `InvalidValue` (a DomainError with the offending parameter) before any event.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from domain.errors import InvalidValue

# Counts go into INTEGER columns on both backends; PostgreSQL's INTEGER is 32 bits.
MAX_COUNT = 2**31 - 1
MAX_URL_LENGTH = 2000
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Pragmatic address check: one @, a dotted domain, no spaces or control characters.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100  # first and last names of a line
MAX_USAGE_ITEMS = 1000  # items in one usage batch
MAX_USAGE_MESSAGES = 10**6  # messages in one usage item
MAX_BATCH_ID_LENGTH = 200
# `text`'s rule as a regular expression, for the API's JSON Schema: not blank, and no
# control characters.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


def count(
    param: str,
    value: object,
    maximum: int = MAX_COUNT,
    error: type[InvalidValue] = InvalidValue,
) -> int:
    """A whole number from 0 to `maximum` (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(param, f"{param} must be a whole number.")
    if not 0 <= value <= maximum:
        raise error(param, f"{param} must be from 0 to {maximum}.")
    return value


def clamp_count(value: object) -> int:
    """What an out-of-range count stored before validation existed is read as."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(value, 0), MAX_COUNT)


def text(param: str, value: object, *, max_len: int, required: bool = True) -> str | None:
    """Trimmed text of 1 to `max_len` characters with no control characters (PostgreSQL
    text cannot hold NUL, and no name, reason or address needs them). Empty → None, or an
    error when required."""
    if value is None:
        if required:
            raise InvalidValue(param, f"{param} is required.")
        return None
    if not isinstance(value, str):
        raise InvalidValue(param, f"{param} must be a string.")
    value = value.strip()
    if not value:
        if required:
            raise InvalidValue(param, f"{param} must not be empty.")
        return None
    if len(value) > max_len:
        raise InvalidValue(param, f"{param} must be at most {max_len} characters.")
    if any(c < " " or c == "\x7f" for c in value):
        raise InvalidValue(param, f"{param} must not contain control characters.")
    return value


def email(param: str, value: object, *, required: bool = False) -> str | None:
    address = text(param, value, max_len=MAX_EMAIL_LENGTH, required=required)
    if address is not None and not EMAIL.match(address):
        raise InvalidValue(param, f"{param} is not a valid email address.")
    return address


def phone(param: str, value: object, *, required: bool = False) -> str | None:
    number = text(param, value, max_len=16, required=required)
    if number is not None and not E164.match(number):
        raise InvalidValue(param, f"{param} must be in E.164 form, like +12025551234.")
    return number


def http_url(param: str, value: object) -> str:
    """An absolute http(s) URL with a host, no credentials in it, at most 2000 characters."""
    url = text(param, value, max_len=MAX_URL_LENGTH) or ""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        raise InvalidValue(param, f"{param} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValue(param, f"{param} must be an http:// or https:// URL with a host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidValue(param, f"{param} must not carry credentials.")
    if port == 0 or " " in url:
        raise InvalidValue(param, f"{param} is not a valid URL.")
    return url
