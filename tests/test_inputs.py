"""Tests for qwen_cli.cli.inputs: attached files, piped stdin, images and --messages files, and every way they can be wrong."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qwen_cli.api.request import Attachment
from qwen_cli.cli.inputs import MAX_IMAGE_BYTES, load_image, load_messages, read_attachment, read_piped_stdin
from qwen_cli.errors import ExitCode, UsageError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
NOBODY = 65534


def usage_message(action: Callable[[], Any]) -> str:
    with pytest.raises(UsageError) as caught:
        action()
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.message


def write(path: Path, data: bytes | str) -> str:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return str(path)


# --- text attachments ----------------------------------------------------------------------------------------


def test_a_text_file_is_attached_under_the_name_it_was_given(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.md", "# Title\nnaïve café ✓\n")

    assert read_attachment(path, None) == Attachment(name=path, text="# Title\nnaïve café ✓\n")


def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbfhello")

    assert read_attachment(path, None).text == "hello"


def test_a_binary_file_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.out", b"\x7fELF\x02\x01\x01\x00\x00\x00")

    assert usage_message(lambda: read_attachment(path, None)) == (
        f"{path} looks like a binary file (it contains NUL bytes); attach text files only"
    )


def test_a_file_that_is_not_utf8_is_a_usage_error_with_the_offset(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.txt", "déjà vu".encode("latin-1"))

    assert usage_message(lambda: read_attachment(path, None)) == (
        f"{path} is not valid UTF-8 (bad byte at offset 1); convert it with iconv first"
    )


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.txt")

    assert usage_message(lambda: read_attachment(path, None)) == f"no such file: {path}"


def test_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    assert usage_message(lambda: read_attachment(str(tmp_path), None)) == (
        f"{tmp_path} is a directory; attach files one by one with -f"
    )


def test_a_path_through_a_file_is_a_usage_error_with_the_reason(tmp_path: Path) -> None:
    path = str(Path(write(tmp_path / "file.txt", "x")) / "child.txt")

    assert usage_message(lambda: read_attachment(path, None)) == f"cannot read {path}: Not a directory"


@pytest.fixture
def world_traversable_dir() -> Iterator[Path]:
    """A directory any user may enter (pytest's tmp_path is private to its owner), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="qwen-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def read_as_nobody(paths: list[str]) -> list[str]:
    """Try `read_attachment` on each path in a child process running as an unprivileged user; report each outcome.

    Root reads every file whatever its mode, so the permission check can only be exercised without root's powers.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        outcomes = []
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            for path in paths:
                try:
                    outcomes.append("read: " + read_attachment(path, None).text)
                except UsageError as exc:
                    outcomes.append(exc.message)
        except BaseException as exc:  # noqa: BLE001 - anything unexpected is reported to the parent as text
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            os.write(write_end, json.dumps(outcomes).encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        outcomes = json.loads(pipe.read() or b"[]")
    os.waitpid(pid, 0)
    return outcomes


def test_a_file_without_read_permission_is_a_usage_error(world_traversable_dir: Path) -> None:
    readable = write(world_traversable_dir / "readable.txt", "ok")
    secret = write(world_traversable_dir / "secret.txt", "hidden")
    os.chmod(readable, 0o644)
    os.chmod(secret, 0o000)
    expected = f"cannot read {secret}: permission denied"

    if not os.access(secret, os.R_OK):
        assert usage_message(lambda: read_attachment(secret, None)) == expected
    else:
        # Running as root: the sibling proves the directory is reachable, so the denial is the file's own mode.
        assert read_as_nobody([readable, secret]) == ["read: ok", expected]


def test_dash_attaches_all_of_stdin_under_the_name_stdin() -> None:
    assert read_attachment("-", io.BytesIO("piped ✓\n".encode())) == Attachment(name="stdin", text="piped ✓\n")


def test_dash_without_stdin_is_a_usage_error() -> None:
    assert usage_message(lambda: read_attachment("-", None)) == (
        "-f - reads stdin, but stdin is turned off (--no-stdin) or is a terminal"
    )


def test_binary_stdin_is_a_usage_error() -> None:
    assert usage_message(lambda: read_attachment("-", io.BytesIO(b"\x00\x01"))) == (
        "stdin looks like a binary file (it contains NUL bytes); attach text files only"
    )


# --- piped stdin -------------------------------------------------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[tuple[io.BufferedReader, int]]:
    """A real pipe: (the reading end as a binary stream, the writing end's descriptor)."""
    read_end, write_end = os.pipe()
    reader = os.fdopen(read_end, "rb")
    yield reader, write_end
    reader.close()
    try:
        os.close(write_end)
    except OSError:
        pass  # the test closed it already


def read_in_thread(reader: io.BufferedReader, wait: float, write_end: int) -> tuple[bytes | None, float]:
    """`read_piped_stdin` with a deadline: a reader that hangs is unblocked (by closing the pipe) and fails the test."""
    result: list[bytes | None] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(read_piped_stdin(reader, wait)))
    worker.start()
    worker.join(timeout=5)
    elapsed = time.monotonic() - started
    if worker.is_alive():
        os.close(write_end)
        worker.join()
        pytest.fail(f"read_piped_stdin({wait}) still waited on an idle pipe after {elapsed:.1f} s")
    return result[0], elapsed


def test_an_idle_pipe_gives_none_once_the_wait_is_over(pipe: tuple[io.BufferedReader, int]) -> None:
    reader, write_end = pipe
    data, elapsed = read_in_thread(reader, 0.2, write_end)

    assert data is None
    assert 0.15 <= elapsed < 2


def test_a_pipe_with_data_is_read_to_the_end(pipe: tuple[io.BufferedReader, int]) -> None:
    reader, write_end = pipe
    os.write(write_end, b"some piped text\n")
    os.close(write_end)

    assert read_piped_stdin(reader, 0.2) == "some piped text\n"


def test_a_writer_that_goes_quiet_without_ending_ends_the_reading_after_the_grace_period(
    pipe: tuple[io.BufferedReader, int],
) -> None:
    # An inherited pipe (a grace period applies): a parent that writes a line and then waits for qwen to exit
    # before closing it must not hang both of them. A pipeline's producer (no grace period) is read to the end.
    reader, write_end = pipe
    os.write(write_end, b"first ")

    def finish_later() -> None:
        time.sleep(0.4)  # longer than the grace period
        os.write(write_end, b"and the rest")
        os.close(write_end)

    writer = threading.Thread(target=finish_later)
    writer.start()
    quiet: list[bool] = []
    try:
        assert read_piped_stdin(reader, 0.1, went_quiet=lambda: quiet.append(True)) == "first "
        assert quiet == [True]
        assert read_piped_stdin(reader, None) == "and the rest"  # no grace period: read to the end
    finally:
        writer.join()


def test_a_closed_empty_pipe_is_empty_not_idle(pipe: tuple[io.BufferedReader, int]) -> None:
    reader, write_end = pipe
    os.close(write_end)

    assert read_piped_stdin(reader, 0.2) == ""


def test_without_a_wait_stdin_is_read_however_long_it_takes(pipe: tuple[io.BufferedReader, int]) -> None:
    reader, write_end = pipe
    timer = threading.Timer(0.3, lambda: (os.write(write_end, b"late"), os.close(write_end)))
    timer.start()
    try:
        assert read_piped_stdin(reader, None) == "late"
    finally:
        timer.join()


def test_a_stream_that_cannot_be_polled_is_just_read() -> None:
    assert read_piped_stdin(io.BytesIO(b"from a test double"), 0.1) == "from a test double"


# --- images --------------------------------------------------------------------------------------------------


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"BM\x3a\x00\x00\x00\x00\x00", "image/bmp"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_a_local_image_becomes_a_data_url_typed_by_its_signature(tmp_path: Path, content: bytes, mime: str) -> None:
    path = write(tmp_path / "picture.bin", content)  # the extension says nothing: the bytes decide

    assert load_image(path) == data_url(mime, content)


def test_the_signature_beats_a_misleading_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "really-a-png.jpg", PNG)

    assert load_image(path) == data_url("image/png", PNG)


def test_an_image_type_without_a_known_signature_is_typed_by_its_extension(tmp_path: Path) -> None:
    content = b"II*\x00\x08\x00\x00\x00"  # TIFF
    path = write(tmp_path / "scan.tiff", content)

    assert load_image(path) == data_url("image/tiff", content)


def test_a_file_that_is_not_an_image_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "notes.txt", "just text")

    assert usage_message(lambda: load_image(path)) == (
        f"{path} is not an image qwen recognises (PNG, JPEG, GIF, WebP, BMP, TIFF, HEIC, AVIF); pass a URL instead"
    )


def test_the_bytes_decide_not_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "fake.png", "not an image at all")
    assert "is not an image qwen recognises" in usage_message(lambda: load_image(path))


@pytest.mark.parametrize(
    "ref", ["https://example.com/cat.png", "http://127.0.0.1/cat.png", "data:image/png;base64,iVBORw0KGgo="]
)
def test_urls_and_data_urls_are_sent_as_they_are(ref: str) -> None:
    assert load_image(ref) == ref


def test_a_missing_image_is_a_usage_error(tmp_path: Path) -> None:
    path = str(tmp_path / "missing.png")

    assert usage_message(lambda: load_image(path)) == f"no such file: {path}"


def test_an_image_of_exactly_20_mib_is_accepted(tmp_path: Path) -> None:
    content = PNG + b"\x00" * (MAX_IMAGE_BYTES - len(PNG))
    path = write(tmp_path / "big.png", content)

    url = load_image(path)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == content


def test_an_image_over_20_mib_is_a_usage_error_that_says_by_how_much(tmp_path: Path) -> None:
    assert MAX_IMAGE_BYTES == 20 * 1024 * 1024
    path = write(tmp_path / "huge.png", PNG + b"\x00" * (MAX_IMAGE_BYTES + 1 - len(PNG)))

    assert usage_message(lambda: load_image(path)) == (
        f"{path} is 20,971,521 bytes; the API takes images up to 20 MiB (20,971,520 bytes)"
    )


# --- --messages --------------------------------------------------------------------------------------------------

ITEMS = [
    {"role": "system", "content": "Be terse."},
    {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
    {"type": "function_call_output", "call_id": "call_1", "output": "42"},
]


def test_messages_are_read_from_a_json_array(tmp_path: Path) -> None:
    path = write(tmp_path / "history.json", json.dumps(ITEMS))

    assert load_messages(path) == tuple(ITEMS)


def test_messages_are_read_from_yaml(tmp_path: Path) -> None:
    yaml_text = (
        "- role: system\n  content: Be terse.\n"
        "- role: user\n  content:\n    - type: input_text\n      text: hi\n"
        "- type: function_call_output\n  call_id: call_1\n  output: '42'\n"
    )
    path = write(tmp_path / "history.yml", yaml_text)

    assert load_messages(path) == tuple(ITEMS)


def test_json_messages_without_a_json_extension_are_read(tmp_path: Path) -> None:
    path = write(tmp_path / "history", json.dumps(ITEMS))

    assert load_messages(path) == tuple(ITEMS)


def test_a_whole_request_body_is_accepted_for_its_input(tmp_path: Path) -> None:
    path = write(tmp_path / "body.json", json.dumps({"model": "qwen-plus", "input": ITEMS, "stream": True}))

    assert load_messages(path) == tuple(ITEMS)


def test_invalid_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.json", '[\n  {"role": "user", "content": "hi"},\n  oops\n]')

    assert usage_message(lambda: load_messages(path)) == f"{path}:3: invalid JSON: Expecting value"


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "- role: user\n  content: [unclosed\n")

    assert usage_message(lambda: load_messages(path)).startswith(f"{path}:3: invalid YAML: ")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[]", "expected a non-empty list of input items (messages like {role: user, content: ...})"),
        (
            '{"role": "user", "content": "hi"}',
            "expected a non-empty list of input items (messages like {role: user, content: ...})",
        ),
        (
            '{"model": "qwen-plus", "input": "hi"}',
            "expected a non-empty list of input items (messages like {role: user, content: ...})",
        ),
        ('[{"role": "user", "content": "hi"}, "hello"]', "item 2 is not an input item (it needs a 'role' or a 'type')"),
        ('[{"content": "who am I?"}]', "item 1 is not an input item (it needs a 'role' or a 'type')"),
    ],
)
def test_messages_that_are_not_a_list_of_items_are_usage_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path / "messages.json", text)

    assert usage_message(lambda: load_messages(path)) == f"{path}: {problem}"


def test_a_missing_messages_file_is_a_usage_error(tmp_path: Path) -> None:
    path = str(tmp_path / "none.json")

    assert usage_message(lambda: load_messages(path)) == f"no such file: {path}"


def test_a_binary_messages_file_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path / "messages.json", b"[\x00]")

    assert "looks like a binary file" in usage_message(lambda: load_messages(path))
