"""Secrets in files other users can read: the warning for a config file or a preset that holds one.

The API key never lives in a file of qwen's (the config refuses unknown keys, presets refuse anything that looks
like a key), but two settings can carry a secret anyway: a base URL with a password in it
(`https://user:pass@proxy/...`) and an MCP header written as a literal value instead of `env:VAR`. Such a file
should be readable by its owner only, as ssh insists for its keys; qwen warns instead of refusing, because the
fix (chmod 600) is the user's to make. Pure apart from one `stat`; no printing.
"""

from __future__ import annotations

import shlex
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "env:"  # a header value written env:VAR comes from the environment, not from the file


def secrets_held(values: Mapping[str, Any]) -> list[str]:
    """What in a config or preset file's own values is a secret, described for the warning."""
    held = []
    if has_password(values.get("base_url")):
        held.append("a password in base_url")
    if any(literal_headers(tool) for tool in values.get("tools") or ()):
        held.append("MCP header values")
    return held


def has_password(url: Any) -> bool:
    try:
        return isinstance(url, str) and bool(urlsplit(url).password)
    except ValueError:  # a malformed URL is reported by the check that reads it, not here
        return False


def literal_headers(tool: Any) -> bool:
    headers = tool.get("headers") if isinstance(tool, Mapping) and tool.get("type") == "mcp" else None
    if not isinstance(headers, Mapping):
        return False
    return any(isinstance(value, str) and value and not value.startswith(ENV_PREFIX) for value in headers.values())


def exposure_warning(path: Path, values: Mapping[str, Any]) -> str | None:
    """A warning when `path` holds a secret and its group or other users may read it; None otherwise."""
    held = secrets_held(values)
    if not held:
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return (
        f"warning: {path} holds {' and '.join(held)} and other users can read it; "
        f"make it private: chmod 600 {shlex.quote(str(path))}"
    )
