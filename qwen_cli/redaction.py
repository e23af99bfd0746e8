"""What must never reach a screen or a file: the secrets of one command and the rules for hiding them, URL
passwords, and terminal control characters in text qwen did not write itself.

A secret is hidden where it sits whatever its length (an HTTP header, an MCP tool's `headers`, a URL's
password). In free text (an answer, an error, any string of the server's JSON) only the API key and secret
values of at least FREE_TEXT_MINIMUM characters are replaced, so a short header value (`en`) never turns
`qwen-plus` into `qw[redacted]-plus`. Standard library only: imports nothing from the package.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[redacted]"
FREE_TEXT_MINIMUM = 8  # shorter values are too likely to be ordinary text ("en", "yes") to be rewritten everywhere


@dataclass(frozen=True)
class Secrets:
    """The secrets of one command: the API key, and other values (MCP header values, a URL's password)."""

    key: str | None = None
    others: tuple[str, ...] = ()

    @classmethod
    def of(cls, key: str | None, others: Iterable[str | None] = ()) -> Secrets:
        return cls(key or None, tuple(dict.fromkeys(value for value in others if value and value != key)))

    def __bool__(self) -> bool:
        return bool(self.key or self.others)

    def __contains__(self, value: object) -> bool:
        return value is not None and (value == self.key or value in self.others)

    def merged(self, other: Secrets) -> Secrets:
        key = self.key or other.key
        extra = [value for value in (self.key, other.key) if value and value != key]
        return Secrets.of(key, (*self.others, *other.others, *extra))

    @functools.cached_property
    def everywhere(self) -> tuple[str, ...]:
        """The secrets replaced in free text, longest first (so a secret inside another goes with it)."""
        found = [self.key] if self.key else []
        found += [value for value in self.others if len(value) >= FREE_TEXT_MINIMUM]
        return tuple(sorted(dict.fromkeys(found), key=len, reverse=True))

    def text(self, text: str) -> str:
        """Free text with the key and every long secret replaced."""
        return replace_all(text, self.everywhere)

    def in_place(self, value: str) -> str:
        """A value where a secret sits (a header's value): hidden whole when it is one, however short."""
        return REDACTED if value in self else self.text(value)

    def json(self, value: Any) -> Any:
        """A copy of a JSON-like value (a server's reply, a request body) with every secret hidden.

        Strings (keys too) follow the free-text rule; an MCP tool's `headers` values are hidden where they sit.
        """
        if not self:
            return value
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        if isinstance(value, dict):
            copied = {self.text(key) if isinstance(key, str) else key: self._walk(item) for key, item in value.items()}
            if value.get("type") == "mcp" and isinstance(value.get("headers"), dict):
                copied["headers"] = self.headers(value["headers"])
            return copied
        return value

    def headers(self, headers: Mapping[Any, Any]) -> dict[Any, Any]:
        """HTTP or MCP headers as shown: a value that is a secret hidden whole, the key and long secrets in any."""
        return {
            self._walk(name): self.in_place(value) if isinstance(value, str) else self._walk(value)
            for name, value in headers.items()
        }

    def url(self, url: str) -> str:
        """A URL as shown: its password replaced where it sits, and the long secrets anywhere else."""
        return self.text(shown_url(url))


def replace_all(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def url_password(url: str) -> str | None:
    """The password in a URL's user info (`https://user:PASSWORD@host/...`): a secret like the key."""
    try:
        return urlsplit(url).password or None
    except ValueError:
        return None


def endpoint_of(base_url: str) -> str:
    """The base URL as recorded (the history, batch job records): no user and password (requests authenticate with
    the key's header anyway), and no query or fragment, which a base URL joined with a path cannot use."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def shown_url(url: str) -> str:
    """The URL as qwen shows it: any password in its user info replaced, the rest untouched."""
    password = url_password(url)
    if not password:
        return url
    netloc = urlsplit(url).netloc
    user_info, _, host = netloc.rpartition("@")
    return url.replace(netloc, f"{user_info.replace(password, REDACTED)}@{host}", 1)


def redacted_fields(record: Any, secrets: Secrets) -> Any:
    """A copy of a dataclass (a history entry) with every secret hidden in its text and JSON fields."""
    if not secrets:
        return record
    changes = {field.name: secrets.json(getattr(record, field.name)) for field in dataclasses.fields(record)}
    return dataclasses.replace(record, **changes)


def withheld_variables(env: Mapping[str, str], named: Iterable[str], secrets: Secrets) -> frozenset[str]:
    """The environment variables a tool program must not receive: those `named` (the key's, the ones MCP
    headers read with env:VAR), and any whose value holds the key or a long secret."""
    held = secrets.everywhere
    return frozenset(named) | {name for name, value in env.items() if any(secret in value for secret in held)}


class StreamRedactor:
    """Hides secrets in text that arrives in pieces: a piece that ends with the start of a secret is held
    back until the next piece shows whether the secret follows, so a key split across deltas is still hidden."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self.held = ""

    def feed(self, piece: str) -> str:
        text = self.secrets.text(self.held + piece)
        settled = len(text) - unfinished_end(text, self.secrets)
        self.held = text[settled:]
        return text[:settled]

    def flush(self) -> str:
        rest, self.held = self.held, ""
        return rest


def unfinished_end(text: str, secrets: Secrets) -> int:
    """The length of the longest end of `text` that begins a secret without completing it (0: none does)."""
    longest, last = 0, text[-1:]
    for secret in secrets.everywhere:
        for size in range(min(len(secret) - 1, len(text)), longest, -1):
            if secret[size - 1] == last and text.endswith(secret[:size]):
                longest = size
                break
    return longest


# A reply, an error message or a tool argument must not drive the user's terminal: pretty output, every screen
# drawn from stored or server text, and every line on stderr show C0 and C1 control characters (except tab and
# newline) as their Unicode control pictures (C1 as U+FFFD).
CONTROL_PICTURES = {code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\t\n"}
CONTROL_PICTURES[0x7F] = "\u2421"
CONTROL_PICTURES.update({code: "\ufffd" for code in range(0x80, 0xA0)})


def neutralise_controls(text: str) -> str:
    return text.translate(CONTROL_PICTURES)
