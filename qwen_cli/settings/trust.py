"""Which projects' presets this user has trusted, as direnv's `allow` and mise's `trust` record it.

A project's `.qwen/presets` arrives with `git clone`, so it is the user's file but not the user's word: a preset
can set `base_url`, and the key goes wherever that points. Its presets are used only once the user has trusted the
project, which records the directory and a digest of every preset file in it (names and bytes); a file changed,
added or removed needs trusting again. The record lives in the user's data folder, readable by its owner only,
and is replaced whole (temporary file, then rename), so a qwen process never reads half of it.
Reads and writes that one file and hashes preset files; no printing, no yaml.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_cli.errors import UsageError
from qwen_cli.settings.config import data_dir
from qwen_cli.settings.files import replace_private

STORE_NAME = "trusted-presets.json"
PRESET_SUFFIXES = (".yaml", ".yml")
TRUSTED, UNTRUSTED, CHANGED = "trusted", "untrusted", "changed"
STORE_VERSION = 1


@dataclass(frozen=True)
class Verdict:
    """Whether a project's presets may be used: trusted, untrusted, or changed since trusted (and how)."""

    state: str
    changes: tuple[str, ...] = ()  # "review.yaml changed", "extra.yaml added", "old.yaml removed"


def store_path(env: Mapping[str, str]) -> Path:
    return data_dir(env) / STORE_NAME


def presets_dir_of(root: Path) -> Path:
    return root / ".qwen" / "presets"


def project_key(root: Path) -> str:
    return str(root.resolve())


# --- what a project's presets are ---------------------------------------------------------------------------------


def file_digests(directory: Path) -> dict[str, str]:
    """Every *.yaml and *.yml under `directory` (its subfolders too, since `extends` may reach them; symlinked
    folders are not followed), by its path relative to `directory`, with the SHA-256 of its bytes."""
    digests: dict[str, str] = {}
    for folder, subfolders, names in os.walk(directory):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if name.endswith(PRESET_SUFFIXES) and path.is_file():
                digests[path.relative_to(directory).as_posix()] = hashlib.sha256(read_bytes(path)).hexdigest()
    return digests


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def combined_digest(files: Mapping[str, str]) -> str:
    """One digest for the whole folder: names and contents, so a rename counts as a change too."""
    lines = "".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items()))
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()


def differences(recorded: Mapping[str, str], current: Mapping[str, str]) -> tuple[str, ...]:
    changed = [
        f"{name} changed" for name in sorted(recorded.keys() & current.keys()) if recorded[name] != current[name]
    ]
    added = [f"{name} added" for name in sorted(current.keys() - recorded.keys())]
    removed = [f"{name} removed" for name in sorted(recorded.keys() - current.keys())]
    return (*changed, *added, *removed)


# --- the verdict --------------------------------------------------------------------------------------------------


def verdict(root: Path, env: Mapping[str, str]) -> Verdict:
    record = read_store(env)["projects"].get(project_key(root))
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        return Verdict(UNTRUSTED)
    current = file_digests(presets_dir_of(root))
    if record.get("digest") == combined_digest(current) and record["files"] == current:
        return Verdict(TRUSTED)
    return Verdict(CHANGED, differences(record["files"], current))


def trust(root: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Record the project's presets as they are now; return the files trusted with their digests."""
    files = file_digests(presets_dir_of(root))
    with locked_store(env) as store:
        store["projects"][project_key(root)] = {
            "trusted_at": time.time(),
            "digest": combined_digest(files),
            "files": files,
        }
    return files


def untrust(key: str, env: Mapping[str, str]) -> bool:
    """Forget a project (by its recorded directory); False when it was not trusted."""
    with locked_store(env) as store:
        return store["projects"].pop(key, None) is not None


def is_recorded(key: str, env: Mapping[str, str]) -> bool:
    return key in read_store(env)["projects"]


# --- the store ----------------------------------------------------------------------------------------------------


def read_store(env: Mapping[str, str]) -> dict[str, Any]:
    path = store_path(env)
    try:
        check_private(path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"version": STORE_VERSION, "projects": {}}
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(path, getattr(exc, "strerror", None) or exc) from exc
    try:
        store = json.loads(text)
    except json.JSONDecodeError as exc:
        raise damaged(path, "not valid JSON") from exc
    if not isinstance(store, dict) or not isinstance(store.get("projects"), dict):
        raise damaged(path, "not a record of trusted projects")
    return store


def damaged(path: Path, reason: object) -> UsageError:
    return UsageError(
        f"the record of trusted projects at {path} cannot be read ({reason}); move it away and trust your projects again"
    )


def check_private(path: Path) -> None:
    """A record others could write would let them trust a project for you: it must be yours and private."""
    status = path.stat()
    if not hasattr(os, "getuid"):
        return  # Windows: no POSIX owners or modes to compare
    if status.st_uid != os.getuid() or status.st_mode & 0o022:
        raise UsageError(
            f"the record of trusted projects at {path} can be changed by other users, so it is not used; "
            f"make it yours alone (chmod 600 {path}) or move it away and trust your projects again"
        )


@contextlib.contextmanager
def locked_store(env: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Read, change and write back the store while holding a lock, so two `qwen presets trust` at once both count;
    readers take no lock: the file is only ever replaced whole."""
    path = store_path(env)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with lock(path.with_name(STORE_NAME + ".lock")):
            store = read_store(env)
            yield store
            replace_private(path, json.dumps(store, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def lock(path: Path) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl
        except ImportError:  # Windows: the rename below still keeps every reader's view whole
            yield
            return
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
