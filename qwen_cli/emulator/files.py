"""The Files endpoints of the Batch API: upload (multipart/form-data), retrieve, list, download and delete.

Files live in the state as ``{"object": FileObject, "content": bytes}``. Input files are uploaded with
``purpose=batch``; a batch's output and error files are added by `batches` with ``purpose=batch_output``.
"""

from __future__ import annotations

import copy
import os
import uuid
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from typing import TYPE_CHECKING, Any

from qwen_cli.emulator.wire import JsonReply, NestedFailure, json_reply, now_seconds

if TYPE_CHECKING:
    from qwen_cli.emulator.state import EmulatorState
    from qwen_cli.emulator.wire import Call, Reply


MAX_FILE_BYTES = 500 * 1024 * 1024  # reference §2.1: the largest batch file


MAX_PARTS = 16  # a form has two fields; more is a broken or hostile client


LIST_LIMIT = (1, 2000, 2000)  # files list `limit`: least, most, default (reference §2.2)


INPUT_PREFIX = "file-batch-"


OUTPUT_PREFIX = "file-batch_output-"  # live error files use it too (reference §2.4)


@dataclass(frozen=True)
class FormPart:
    content: bytes
    filename: str | None


def new_file_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def not_found(file_id: str) -> NestedFailure:
    return NestedFailure(404, f"File '{file_id}' not found.", code="file_not_found", param="file_id")


def parse_multipart(content_type: str, body: bytes) -> dict[str, FormPart]:
    """The named parts of a multipart/form-data body; later parts of the same name win, as form fields do."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str) or not boundary:
        raise NestedFailure(400, "The request must be multipart/form-data with a 'file' and a 'purpose' part.")
    sections = body.split(b"--" + boundary.encode("latin-1"))
    if len(sections) < 3 or not sections[-1].startswith(b"--") or len(sections) > MAX_PARTS + 2:
        raise NestedFailure(400, "The multipart/form-data body is malformed.")
    parts = {}
    for section in sections[1:-1]:
        head, found, content = section.removeprefix(b"\r\n").removesuffix(b"\r\n").partition(b"\r\n\r\n")
        if not found:
            raise NestedFailure(400, "The multipart/form-data body is malformed.")
        # Clients send a filename as raw UTF-8 (the HTML form rule); read it as text before parsing the header.
        headers = HeaderParser().parsestr(head.decode("utf-8", "replace") + "\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if isinstance(name, str):
            parts[name] = FormPart(content, plain_filename(headers.get_filename()))
    return parts


def plain_filename(raw: str | None) -> str | None:
    """The name without any directory part."""
    return None if raw is None else os.path.basename(raw.replace("\\", "/")) or None


def upload_file(state: EmulatorState, call: Call) -> Reply:
    """POST /files: a ``file`` part with a filename and ``purpose=batch``."""
    parts = parse_multipart(call.headers.get("content-type", ""), call.raw_body)
    purpose = parts.get("purpose")
    if purpose is None or purpose.content.decode("utf-8", "replace").strip() != "batch":
        raise NestedFailure(400, "'purpose' must be 'batch'", param="purpose")
    upload = parts.get("file")
    if upload is None or not upload.filename:
        raise NestedFailure(400, "Missing required parameter: 'file' (a file part with a filename).", param="file")
    if not upload.content:
        raise NestedFailure(400, "The file is empty.", param="file")
    if len(upload.content) > MAX_FILE_BYTES:
        raise NestedFailure(400, "The file is larger than 500 MB.", param="file")
    record = store_file(state, INPUT_PREFIX, upload.filename, "batch", upload.content)
    return json_reply(200, record)


def store_file(state: EmulatorState, prefix: str, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
    """Remember a file and return its FileObject; callers that already hold the lock use `file_object` directly."""
    with state.lock:
        return add_file(state, prefix, filename, purpose, content)


def add_file(state: EmulatorState, prefix: str, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
    """Remember a file (the caller holds the lock) and return a copy of its FileObject."""
    file_id = new_file_id(prefix)
    obj = {
        "id": file_id,
        "object": "file",
        "bytes": len(content),
        "created_at": now_seconds(),
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
        "status_details": None,
    }
    state.files[file_id] = {"object": obj, "content": content}
    return copy.deepcopy(obj)


def find_file(state: EmulatorState, file_id: str) -> dict[str, Any]:
    """The stored record; callers hold the lock."""
    record = state.files.get(file_id)
    if record is None:
        raise not_found(file_id)
    return record


def retrieve_file(state: EmulatorState, call: Call, file_id: str) -> Reply:
    with state.lock:
        return json_reply(200, find_file(state, file_id)["object"])


def list_files(state: EmulatorState, call: Call) -> Reply:
    """GET /files: newest first, after the ``after`` id, at most ``limit``; ``purpose`` filters when given."""
    limit = query_limit(call.query, *LIST_LIMIT)
    with state.lock:
        found = [copy.deepcopy(record["object"]) for record in reversed(state.files.values())]
    if call.query.get("purpose"):
        found = [obj for obj in found if obj["purpose"] == call.query["purpose"]]
    found = after_cursor(found, call.query.get("after"))
    return json_reply(200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit})


def query_limit(query: dict[str, str], least: int, most: int, default: int) -> int:
    raw = query.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not least <= int(raw) <= most:
        raise NestedFailure(400, f"Invalid 'limit': {raw}. Expected an integer from {least} to {most}.", param="limit")
    return int(raw)


def after_cursor(objects: list[dict[str, Any]], after: str | None) -> list[dict[str, Any]]:
    """The objects that follow the one with id ``after``: all of them when it is not given, none when it names no
    object (a cursor past the end, or deleted): a client's paging loop must end, never start over."""
    if not after:
        return objects
    ids = [obj["id"] for obj in objects]
    return objects[ids.index(after) + 1 :] if after in ids else []


def file_content(state: EmulatorState, call: Call, file_id: str) -> Reply:
    """GET /files/{id}/content: only a batch's output and error files can be downloaded (reference §2.2)."""
    with state.lock:
        record = find_file(state, file_id)
    if not file_id.startswith(OUTPUT_PREFIX):
        message = "Only files whose file_id starts with 'file-batch_output' can be downloaded."
        raise NestedFailure(400, message, code="invalid_file", param="file_id")
    return JsonReply(200, record["content"], "application/octet-stream")


def delete_file(state: EmulatorState, call: Call, file_id: str) -> Reply:
    with state.lock:
        find_file(state, file_id)
        del state.files[file_id]
    return json_reply(200, {"object": "file", "deleted": True, "id": file_id})
