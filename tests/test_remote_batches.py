"""batch.remote and the client's upload and download, against a real emulator on 127.0.0.1.

The create is sent once and never retried; a lost answer is found again through the batch list by input file.
Statuses are awaited by polling with a deadline, never by timing.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY

from qwen_cli.api.client import Client
from qwen_cli.batch import remote
from qwen_cli.batch.remote import BatchView, Target
from qwen_cli.emulator import Emulator
from qwen_cli.errors import ApiError, AuthError, TransientError, UsageError

FIXTURES = Path(__file__).parent / "fixtures" / "batch"
DEADLINE = 20.0


def line(custom_id: str, prompt: str) -> dict[str, Any]:
    body = {"model": "qwen-plus", "messages": [{"role": "user", "content": prompt}]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in lines)


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    emulator.set_faults(batch_step_seconds=0.02)
    return emulator


@pytest.fixture
def target(emu: Emulator) -> Target:
    return Target(emu.base_url, API_KEY)


@pytest.fixture
def client() -> Iterator[Client]:
    notes: list[str] = []
    with Client(max_retries=2, sleep=lambda seconds: None, notify=notes.append) as made:
        made.notes = notes  # type: ignore[attr-defined]  # what the retries said, for the tests that count them
        yield made


def calls(emu: Emulator) -> list[tuple[str, str, dict[str, str]]]:
    return [(entry["method"], entry["path"].rpartition("/v1/")[2], entry["query"]) for entry in emu.requests]


def settle(client: Client, target: Target, batch_id: str) -> BatchView:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        batch = remote.get_batch(client, target, batch_id)
        if batch.terminal:
            return batch
        time.sleep(0.01)
    raise AssertionError(f"batch {batch_id} did not settle")


def test_upload_create_wait_download_delete(emu: Emulator, target: Target, client: Client, tmp_path: Path) -> None:
    source = tmp_path / "requests.jsonl"
    source.write_bytes(jsonl([line("a", "hello"), line("b", "@@fail")]))
    uploaded = remote.upload_batch_file(client, target, source)
    assert uploaded.id.startswith("file-batch-") and uploaded.filename == "requests.jsonl"
    assert uploaded.bytes == source.stat().st_size and uploaded.purpose == "batch"
    created = remote.create_batch(client, target, uploaded.id, metadata={"ds_name": "nightly"})
    assert (created.status, created.terminal, created.input_file_id) == ("validating", False, uploaded.id)
    assert created.metadata == {"ds_name": "nightly"} and created.at("created") == created.timestamps["created_at"]
    batch = settle(client, target, created.id)
    assert (batch.status, batch.counts) == ("completed", remote.Counts(2, 1, 1))
    assert batch.result_file_ids == (batch.output_file_id, batch.error_file_id) and len(batch.result_file_ids) == 2
    output = tmp_path / "out.jsonl"
    size = remote.download_to(client, target, batch.output_file_id or "", output)
    assert size == output.stat().st_size
    assert [json.loads(text)["custom_id"] for text in output.read_text().splitlines()] == ["a"]
    errors = io.BytesIO()
    remote.download_file(client, target, batch.error_file_id or "", errors)
    assert json.loads(errors.getvalue())["error"] == {"code": "InternalError", "message": "Emulated failure."}
    assert remote.delete_file(client, target, uploaded.id) is True
    assert remote.delete_file(client, target, uploaded.id) is False  # already gone: the aim is met
    assert [name for _, name, _ in calls(emu)].count("batches") == 1  # one create


def test_upload_from_bytes_and_its_retry(emu: Emulator, target: Target, client: Client) -> None:
    emu.set_faults(batch_http_status=503, batch_http_status_count=1)
    uploaded = remote.upload_batch_file(client, target, jsonl([line("a", "hi")]), filename="made.jsonl")
    assert uploaded.filename == "made.jsonl" and uploaded.bytes == len(jsonl([line("a", "hi")]))
    assert [call[:2] for call in calls(emu)] == [("POST", "files"), ("POST", "files")]
    assert "retrying" in client.notes[0]  # type: ignore[attr-defined]


def test_upload_refuses_empty_and_missing_files_before_any_request(
    emu: Emulator, target: Target, client: Client, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="is empty"):
        remote.upload_batch_file(client, target, b"")
    with pytest.raises(UsageError, match="cannot read"):
        remote.upload_batch_file(client, target, tmp_path / "missing.jsonl")
    assert emu.requests == []


def test_a_create_is_sent_once_and_a_lost_answer_is_found_by_its_input_file(
    emu: Emulator, target: Target, client: Client
) -> None:
    file_id = remote.upload_batch_file(client, target, jsonl([line("a", "hi")])).id
    emu.set_faults(batch_step_seconds=0.02, batch_create_lost=1)
    batch = remote.create_batch(client, target, file_id)
    assert batch.input_file_id == file_id
    creates = [call for call in calls(emu) if call[:2] == ("POST", "batches")]
    lookups = [call for call in calls(emu) if call[:2] == ("GET", "batches")]
    assert len(creates) == 1 and [query for _, _, query in lookups] == [{"input_file_ids": file_id, "limit": "100"}]
    assert [found.id for found in remote.list_batches(client, target).batches] == [batch.id]


def test_a_create_that_failed_before_the_server_made_it_is_not_retried(
    emu: Emulator, target: Target, client: Client
) -> None:
    file_id = remote.upload_batch_file(client, target, jsonl([line("a", "hi")])).id
    emu.set_faults(batch_http_status=503, batch_http_status_count=5)
    with pytest.raises(TransientError) as caught:
        remote.create_batch(client, target, file_id)
    assert caught.value.status == 503
    assert f"look for input file {file_id} in the batch list" in caught.value.line()
    creates = [call for call in calls(emu) if call[:2] == ("POST", "batches")]
    assert len(creates) == 1  # the lookup that followed may be retried; the create never is


def test_a_refused_create_is_not_looked_for(emu: Emulator, target: Target, client: Client) -> None:
    file_id = remote.upload_batch_file(client, target, jsonl([line("a", "hi")])).id
    with pytest.raises(ApiError) as caught:
        remote.create_batch(client, target, file_id, endpoint="/v1/responses")
    assert caught.value.status == 400 and "Invalid 'endpoint'" in caught.value.message
    assert [call[:2] for call in calls(emu)] == [("POST", "files"), ("POST", "batches")]


@pytest.mark.parametrize("window", ["12h", "15d", "1w", ""])
def test_a_bad_window_costs_no_request(emu: Emulator, target: Target, client: Client, window: str) -> None:
    with pytest.raises(UsageError, match="from 24h to 336h"):
        remote.create_batch(client, target, "file-batch-0", window=window)
    assert emu.requests == []


def test_ids_that_are_not_ids_cost_no_request(emu: Emulator, target: Target, client: Client) -> None:
    for call in (
        lambda: remote.get_batch(client, target, "../files"),
        lambda: remote.cancel_batch(client, target, "batch?x=1"),
        lambda: remote.delete_file(client, target, ""),
        lambda: remote.create_batch(client, target, "a/b"),
        lambda: remote.list_batches(client, target, input_file_ids=("a b",)),
    ):
        with pytest.raises(UsageError, match="is not an id"):
            call()
    assert emu.requests == []


def test_list_pages_filters_and_the_null_empty_page(emu: Emulator, target: Target, client: Client) -> None:
    empty = remote.list_batches(client, target)
    assert (empty.batches, empty.has_more, empty.last_id) == ((), False, None)
    file_id = remote.upload_batch_file(client, target, jsonl([line("a", "hi")])).id
    made = [remote.create_batch(client, target, file_id, metadata={"ds_name": f"job {n}"}).id for n in range(3)]
    page = remote.list_batches(client, target, limit=2)
    assert [batch.id for batch in page.batches] == made[:0:-1] and page.has_more and page.last_id == made[1]
    rest = remote.list_batches(client, target, after=page.last_id)
    assert [batch.id for batch in rest.batches] == [made[0]] and not rest.has_more
    assert [batch.id for batch in remote.list_batches(client, target, name="job 1").batches] == [made[1]]
    settle(client, target, made[0])
    done = remote.list_batches(client, target, statuses=("completed",), input_file_ids=(file_id,))
    assert {batch.status for batch in done.batches} == {"completed"}
    assert calls(emu)[-1][2] == {"status": "completed", "input_file_ids": file_id}
    with pytest.raises(UsageError, match="1 to 100"):
        remote.list_batches(client, target, limit=0)
    with pytest.raises(UsageError, match="unknown batch status 'done'"):
        remote.list_batches(client, target, statuses=("done",))


def test_cancel_then_cancel_again(emu: Emulator, target: Target, client: Client) -> None:
    emu.set_faults(batch_step_seconds=0.05)
    file_id = remote.upload_batch_file(client, target, jsonl([line("a", "hi")])).id
    created = remote.create_batch(client, target, file_id)
    assert remote.cancel_batch(client, target, created.id).status == "cancelling"
    assert settle(client, target, created.id).status == "cancelled"
    with pytest.raises(ApiError) as caught:
        remote.cancel_batch(client, target, created.id)
    assert (caught.value.status, caught.value.message) == (400, "batch status does not allow cancel")
    assert caught.value.code == "invalid_request_error"  # a nested envelope with code null: its type stands in


def test_a_failed_batch_reports_its_job_errors(emu: Emulator, target: Target, client: Client) -> None:
    file_id = remote.upload_batch_file(client, target, jsonl([line("same", "a"), line("same", "b")])).id
    batch = settle(client, target, remote.create_batch(client, target, file_id).id)
    assert batch.status == "failed" and batch.result_file_ids == ()
    assert batch.errors == (
        remote.JobError(
            "duplicate_custom_id", "The custom_id 'same' is used by more than one request.", "custom_id", 2
        ),
    )


def test_unknown_ids_and_a_wrong_key(emu: Emulator, target: Target, client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        remote.get_batch(client, target, "batch_nope")
    assert (caught.value.status, caught.value.code) == (404, "batch_not_found")
    with pytest.raises(AuthError):
        remote.get_batch(client, Target(emu.base_url, None), "batch_nope")


def test_a_download_past_its_limit_leaves_no_file(
    emu: Emulator, target: Target, client: Client, tmp_path: Path
) -> None:
    file_id = remote.upload_batch_file(client, target, jsonl([line("a", "@@words=2000")])).id
    batch = settle(client, target, remote.create_batch(client, target, file_id).id)
    path = tmp_path / "out.jsonl"
    with pytest.raises(TransientError, match="the limit for one download"):
        remote.download_to(client, target, batch.output_file_id or "", path, limit=1000)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(UsageError, match="cannot write"):
        remote.download_to(client, target, batch.output_file_id or "", tmp_path / "no" / "such" / "dir.jsonl")
    emu.set_faults(gzip=True)  # decoded as it arrives: the size counted is the file's, not the wire's
    assert remote.download_to(client, target, batch.output_file_id or "", path) == path.stat().st_size
    assert "w2000" in path.read_text()


def test_a_download_is_retried_while_nothing_was_written(emu: Emulator, target: Target, client: Client) -> None:
    file_id = remote.upload_batch_file(client, target, jsonl([line("a", "hi")])).id
    batch = settle(client, target, remote.create_batch(client, target, file_id).id)
    emu.set_faults(batch_step_seconds=0.02, batch_http_status=502, batch_http_status_count=2)
    sink = io.BytesIO()
    assert remote.download_file(client, target, batch.output_file_id or "", sink) == len(sink.getvalue()) > 0
    downloads = [call for call in calls(emu) if call[1].endswith("/content")]
    assert len(downloads) == 3


def test_a_download_cut_after_bytes_is_an_error_not_a_retry() -> None:
    """A body that ends early (the server promised more): the sink holds a part, so the client must not retry."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "100"}, stream=CutStream())

    sink = io.BytesIO()
    with Client(transport=httpx.MockTransport(handler), sleep=lambda seconds: None) as client:
        with pytest.raises(TransientError, match="the download was cut after 5 bytes"):
            remote.download_file(
                client, Target("http://127.0.0.1:9/compatible-mode/v1", "sk-x"), "file-batch_output-1", sink
            )
    assert sink.getvalue() == b"first"


class CutStream(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"first"
        raise httpx.ReadError("connection reset")


@pytest.mark.parametrize(
    "name",
    [
        "batch-create-response.json",
        "batch-in-progress.json",
        "batch-completed.json",
        "batch-completed-doc.json",
        "batch-cancel-response.json",
        "batch-cancelled.json",
        "batch-failed-validation.json",
        "batch-failed-test-url.json",
    ],
)
def test_every_documented_batch_object_reads(name: str) -> None:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    batch = BatchView.of(data)
    assert (batch.id, batch.status, batch.raw) == (data["id"], data["status"], data)
    assert batch.counts == remote.Counts(**data["request_counts"])
    assert batch.result_file_ids == tuple(data[key] for key in ("output_file_id", "error_file_id") if data[key])
    assert batch.terminal == (data["status"] in {"completed", "failed", "expired", "cancelled"})
    assert batch.timestamps["expires_at"] == data["expires_at"]
    assert len(batch.errors) == len((data["errors"] or {}).get("data", []))


def test_a_batch_missing_keys_reads_as_unset() -> None:
    batch = BatchView.of({"id": "batch_1", "status": "in_progress", "errors": [{"code": "x"}], "metadata": None})
    assert (batch.counts, batch.output_file_id, batch.at("completed"), batch.metadata) == (
        remote.Counts(),
        None,
        None,
        {},
    )
    assert batch.errors == (remote.JobError("x", "no message"),)
    with pytest.raises(ApiError, match="not a batch"):
        BatchView.of({"object": "list"})


def test_the_key_is_not_in_a_targets_repr() -> None:
    assert API_KEY not in repr(Target("http://127.0.0.1:1/compatible-mode/v1", API_KEY))
