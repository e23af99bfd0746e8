"""Piped material is never lost, end to end: a slow producer beside qwen in a shell pipeline is waited for, an
inherited pipe nobody writes gets a grace period (--stdin-wait, the config file's stdin_wait), a wait on a terminal
is announced, and data that arrives after qwen answered without it is exit 7, never a silent success.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from conftest import Result, assert_no_secret, qwen_executable, run_in_pty

from qwen_cli.emulator import Emulator

MATERIAL = "FAILED test_x.py::test_add - assert 1 + 1 == 3"


def sent_input(emulator: Emulator) -> object:
    (created,) = [entry for entry in emulator.requests if entry["method"] == "POST"]
    return created["body"]["input"]


def in_a_pipeline(qwen_env: dict[str, str], producer: str, *args: str, timeout: float = 60) -> Result:
    """`PRODUCER | qwen ARGS`, as a shell runs a pipeline: the producer is qwen's sibling, not its ancestor."""
    quoted = " ".join(f"'{arg}'" for arg in args)
    completed = subprocess.run(
        ["bash", "-c", f"{producer} | '{qwen_executable()}' {quoted}"],
        env=qwen_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    assert_no_secret(result)
    return result


def test_a_slow_producer_in_a_pipeline_is_waited_for(qwen_env: dict[str, str], emulator: Emulator) -> None:
    result = in_a_pipeline(qwen_env, f"(sleep 2.5; echo '{MATERIAL}')", "ask", "why did this test fail?")
    assert (result.returncode, result.stderr) == (0, "")
    parts = sent_input(emulator)[0]["content"]  # type: ignore[index]
    assert [part["text"] for part in parts] == [
        f'<document name="stdin">\n{MATERIAL}\n</document>',
        "why did this test fail?",
    ]


def test_a_slow_producer_is_waited_for_even_past_a_short_stdin_wait(
    qwen_env: dict[str, str], emulator: Emulator
) -> None:
    # --stdin-wait is the grace period of a pipe nobody may write; a sibling in a pipeline is waited for to its end.
    result = in_a_pipeline(qwen_env, f"(sleep 1.5; echo '{MATERIAL}')", "ask", "--stdin-wait", "0.2", "why?")
    assert result.returncode == 0 and MATERIAL in json.dumps(sent_input(emulator))


def idle_pipe_run(qwen_env: dict[str, str], *args: str, write_after: float | None = None) -> tuple[Result, float]:
    """qwen with a stdin pipe held open by this test (its ancestor) until qwen exits, written only `write_after`
    seconds in, if at all."""
    started = time.monotonic()
    process = subprocess.Popen(
        [qwen_executable(), *args], env=qwen_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    outputs: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda name=name, stream=stream: outputs.__setitem__(name, stream.read()))
        for name, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for reader in readers:
        reader.start()
    try:
        if write_after is not None:
            time.sleep(write_after)
            process.stdin.write(f"{MATERIAL}\n".encode())  # type: ignore[union-attr]
            process.stdin.flush()  # type: ignore[union-attr]
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdin.close()  # type: ignore[union-attr]
        for reader in readers:
            reader.join(timeout=10)
    result = Result(process.returncode, outputs["out"].decode(), outputs["err"].decode())
    assert_no_secret(result)
    return result, time.monotonic() - started


def test_stdin_wait_sets_the_grace_period_of_an_inherited_pipe(qwen_env: dict[str, str], emulator: Emulator) -> None:
    result, _ = idle_pipe_run(qwen_env, "ask", "--stdin-wait", "0.3", "hi")
    assert (result.returncode, result.stdout) == (0, "You said: hi\n")
    assert result.stderr.startswith("qwen: stdin sent nothing within 0.3 s; going on without it")


def test_the_config_files_stdin_wait_sets_it_too(qwen_env: dict[str, str], emulator: Emulator) -> None:
    config = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("stdin_wait: 0.25\n", encoding="utf-8")
    result, _ = idle_pipe_run(qwen_env, "ask", "hi")
    assert result.returncode == 0 and "stdin sent nothing within 0.25 s" in result.stderr


def test_data_arriving_after_the_answer_is_exit_7_with_the_answer_kept(
    qwen_env: dict[str, str], emulator: Emulator
) -> None:
    emulator.set_faults(first_event_delay=1.5)  # the answer comes at ~2.5 s; the data at 1.5 s, after the grace
    result, _ = idle_pipe_run(qwen_env, "ask", "--stdin-wait", "0.5", "hi", write_after=1.2)
    assert (result.returncode, result.stdout) == (7, "You said: hi\n")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("qwen: stdin sent nothing within 0.5 s")
    assert lines[-1] == (
        "qwen: error: stdin sent data after qwen had answered without it, so none of it was sent; "
        "wait for it with --stdin-wait SECONDS or -f -, or skip stdin with --no-stdin"
    )
    assert MATERIAL not in json.dumps(sent_input(emulator))


def test_a_wait_on_a_terminal_is_announced(qwen_env: dict[str, str], emulator: Emulator) -> None:
    command = f"(sleep 2; echo '{MATERIAL}') | '{qwen_executable()}' ask -o text 'why did this test fail?'"
    result = run_in_pty(["bash", "-c", command], {**qwen_env, "COLUMNS": "120"}, timeout=30)
    assert "qwen: waiting for input on stdin; --no-stdin to skip" in result.stdout
    assert "You said" in result.stdout and MATERIAL in json.dumps(sent_input(emulator))


def one_pixel_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_an_image_piped_in_as_text_says_to_use_image_dash(qwen, emulator: Emulator) -> None:
    result = qwen("ask", "what is this?", input=one_pixel_png())
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "qwen: error: stdin is an image (image/png), not text; send it with --image -\n"
    assert emulator.requests == []


def test_image_dash_sends_the_image_piped_in(qwen, emulator: Emulator) -> None:
    import base64

    result = qwen("ask", "--image", "-", "what is this?", input=one_pixel_png())
    assert (result.returncode, result.stdout) == (0, "You said: what is this? (1 image)\n")
    parts = sent_input(emulator)[0]["content"]  # type: ignore[index]
    image = next(part for part in parts if part["type"] == "input_image")
    assert image["image_url"] == "data:image/png;base64," + base64.b64encode(one_pixel_png()).decode()


def test_stdin_cannot_be_both_a_file_and_an_image(qwen, emulator: Emulator) -> None:
    result = qwen("ask", "-f", "-", "--image", "-", "x", input=one_pixel_png())
    assert (result.returncode, result.stderr) == (
        2,
        "qwen: error: stdin is named twice (-f -, --image -): it can be read only once\n",
    )


def test_a_parent_that_writes_a_line_and_keeps_the_pipe_open_does_not_hang_qwen(
    qwen_env: dict[str, str], emulator: Emulator
) -> None:
    result, _ = idle_pipe_run(qwen_env, "ask", "--stdin-wait", "0.5", "summarise", write_after=0.2)
    assert result.returncode == 0 and result.stdout.endswith("summarise\n")
    assert result.stderr == (
        "qwen: stdin sent some text, then nothing more for 0.5 s without ending; going on with what it sent\n"
    )
    assert MATERIAL in json.dumps(sent_input(emulator))  # the hang it guards against ends in idle_pipe_run's timeout
