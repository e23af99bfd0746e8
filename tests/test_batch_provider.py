"""The provider side of `qwen batch` in-process, against the emulator on 127.0.0.1: the paths that take a long wait
or an exact moment (polling through a failure, a create refused), with sleeps recorded instead of slept."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from conftest import API_KEY

from qwen_cli.batch import remote
from qwen_cli.cli import batch_fetch, batch_provider
from qwen_cli.cli.flags import ApiFlags, BatchFlags
from qwen_cli.cli.world import World
from qwen_cli.emulator import Emulator
from qwen_cli.errors import ApiError, NotSettled
from qwen_cli.redaction import Secrets


class Run:
    """One command in-process: its world (stdout, stderr, waits) and its exit code."""

    def __init__(self, emulator: Emulator, tmp_path: Path) -> None:
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.env = {
            "HOME": str(tmp_path / "home"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "DASHSCOPE_API_KEY": API_KEY,
            "QWEN_BASE_URL": emulator.base_url,
        }

    def world(self, on_sleep=None) -> World:
        self.stdout, self.stderr, self.waits = io.StringIO(), io.StringIO(), []

        def sleep(seconds: float) -> None:
            self.waits.append(seconds)
            if on_sleep is not None:
                on_sleep(len(self.waits))

        return World(
            env=self.env,
            stdin=None,
            stdout=self.stdout,
            stderr=self.stderr,
            cwd=self.tmp_path,
            sleep=sleep,
            secrets=Secrets.of(API_KEY),
        )

    def exit_code(self, command, *args) -> int:
        try:
            command(*args)
        except SystemExit as exit_:
            return int(exit_.code or 0)
        return 0

    def items(self, *prompts: str) -> str:
        path = self.tmp_path / "items.jsonl"
        path.write_text("".join(json.dumps(prompt) + "\n" for prompt in prompts))
        return str(path)


@pytest.fixture
def run(emulator: Emulator, tmp_path: Path) -> Run:
    emulator.set_faults(batch_step_seconds=0.01)
    return Run(emulator, tmp_path)


def test_waiting_goes_on_through_a_failed_look_at_the_job(run: Run) -> None:
    def fail_the_first_looks(waits: int) -> None:
        if waits == 1:
            run.emulator.set_faults(batch_step_seconds=0.01, batch_http_status=503, batch_http_status_count=2)

    world = run.world(on_sleep=fail_the_first_looks)
    out = run.tmp_path / "out.jsonl"
    flags = BatchFlags(max_retries=0, out=str(out))
    code = run.exit_code(batch_provider.submit, [run.items("a", "b")], flags, world, "24h", True, False)
    assert code == 0, run.stderr.getvalue()
    assert run.stderr.getvalue().count("could not ask where the job is") == 2
    assert [row["text"] for row in map(json.loads, out.read_text().splitlines())] == ["You said: a", "You said: b"]
    assert run.waits[0] == batch_provider.FIRST_POLL and run.waits[1] == batch_provider.FIRST_POLL * 1.5


def test_fetch_into_a_missing_folder_is_refused_before_any_download(run: Run) -> None:
    world = run.world()
    assert run.exit_code(batch_provider.submit, [run.items("a")], BatchFlags(), world, "24h", False, False) == 0
    before = len(run.emulator.requests)
    world = run.world()
    fetching = batch_fetch.Fetching(out=str(run.tmp_path / "missing" / "out.jsonl"))
    assert run.exit_code(batch_fetch.fetch, "last", ApiFlags(), world, fetching) == 2
    assert "the folder" in run.stderr.getvalue() and "does not exist" in run.stderr.getvalue()
    assert run.emulator.requests[before:] == []


def test_items_of_a_job_cancelled_before_they_ran_say_they_were_not_run(run: Run) -> None:
    run.emulator.set_faults(batch_step_seconds=0.5)  # still validating when it is cancelled
    world = run.world()
    assert run.exit_code(batch_provider.submit, [run.items("a", "b")], BatchFlags(), world, "24h", False, False) == 0
    batch_id = run.stdout.getvalue().strip()
    assert run.exit_code(batch_provider.cancel, batch_id, ApiFlags(), run.world()) == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        batch_provider.status(batch_id, ApiFlags(json_output=True), run.world())
        if json.loads(run.stdout.getvalue())["batch"]["status"] == "cancelled":
            break
        time.sleep(0.05)
    out = run.tmp_path / "out.jsonl"
    code = run.exit_code(batch_fetch.fetch, batch_id, ApiFlags(), run.world(), batch_fetch.Fetching(out=str(out)))
    assert code == 8
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["error"]["message"] for row in rows] == ["not run: the job was cancelled before it (not billed)"] * 2


class RefusingClient:
    """A client whose create is refused for certain (HTTP 400), recording what it is asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def send(self, request, retry: bool = True) -> dict:
        self.asked.append((request.method, request.url))
        if request.method == "POST":
            raise ApiError("invalid endpoint", status=400)
        return {"object": "file", "deleted": True, "id": "file-batch-1"}


def test_a_create_refused_for_certain_deletes_the_uploaded_file() -> None:
    client = RefusingClient()
    target = remote.Target("http://127.0.0.1:9/v1", "sk-x")
    with pytest.raises(ApiError):
        batch_provider.create_or_clean_up(client, target, "file-batch-1", "/v1/chat/completions", "24h", {})  # type: ignore[arg-type]
    assert client.asked == [
        ("POST", "http://127.0.0.1:9/v1/batches"),
        ("DELETE", "http://127.0.0.1:9/v1/files/file-batch-1"),
    ]


def test_a_completed_job_without_its_files_is_not_settled_yet() -> None:
    batch = remote.BatchView.of({"id": "batch_1", "status": "completed", "output_file_id": None, "error_file_id": None})
    with pytest.raises(NotSettled, match="its result files are not published yet"):
        batch_fetch.check_settled(batch, None)
    assert not batch_provider.published(batch)


def test_raw_lines_keep_their_bytes_but_never_an_echoed_key(run: Run) -> None:
    provider = run.tmp_path / "0.jsonl"
    provider.write_bytes(b'{"custom_id": "1", "echo": "' + API_KEY.encode() + b'"}\n\n{"custom_id": "2", "x": "\xff"}')
    out = run.tmp_path / "raw.jsonl"
    batch_fetch.write_raw([provider], str(out), run.world())
    written = out.read_bytes()
    assert API_KEY.encode() not in written and b'"echo": "' in written
    assert written.endswith(b'{"custom_id": "2", "x": "\xff"}\n')  # not UTF-8: passed through as it came
