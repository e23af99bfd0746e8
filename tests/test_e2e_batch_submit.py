"""`qwen batch submit|status|fetch|cancel|list`, end to end: the real process against the emulator's Files and
Batches endpoints, with a job's life compressed to a fraction of a second."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from conftest import API_KEY

from qwen_cli.emulator import Emulator

STEP = 0.05  # seconds per lifecycle step of an emulated job


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def write_items(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def calls(emulator: Emulator, method: str, suffix: str) -> list[dict]:
    return [entry for entry in emulator.requests if entry["method"] == method and entry["path"].endswith(suffix)]


def settle(qwen, batch_id: str, deadline: float = 20.0) -> dict:
    """Ask for the job's status until it has settled, as a script would."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        document = json.loads(qwen("batch", "status", batch_id, "--json").stdout)
        if document["batch"]["status"] in ("completed", "failed", "expired", "cancelled"):
            return document
        time.sleep(STEP)
    raise AssertionError(f"{batch_id} did not settle")


@pytest.fixture
def quick(emulator: Emulator) -> Emulator:
    emulator.set_faults(batch_step_seconds=STEP)
    return emulator


def test_submit_follow_and_fetch_write_runs_result_lines(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(
        tmp_path / "items.jsonl",
        ["hello", {"id": "b", "prompt": "world", "instructions": "Be brief"}, "@@fail", "@@fail-inside"],
    )
    submitted = qwen("batch", "submit", str(items), "-m", "qwen-flash")
    assert submitted.returncode == 0, submitted.stderr
    batch_id = submitted.stdout.strip()
    assert batch_id.startswith("batch_") and "\n" not in batch_id
    assert "submitted " + batch_id + ": 4 items for qwen-flash" in submitted.stderr
    assert f"created {batch_id} (input file file-batch-" in submitted.stderr  # said before the job is recorded

    uploaded = calls(quick, "POST", "/files")
    assert len(uploaded) == 1 and len(calls(quick, "POST", "/batches")) == 1
    document = settle(qwen, batch_id)
    assert document["job"]["items"] == 4 and document["job"]["model"] == "qwen-flash"

    out = tmp_path / "results.jsonl"
    fetched = qwen("batch", "fetch", batch_id, "-O", str(out))
    assert fetched.returncode == 8  # two items failed: one in the error file, one inside the output file
    rows = lines(out.read_text())
    assert [row["id"] for row in rows] == ["1", "b", "3", "4"]  # input order, though the provider's is not
    assert [row["text"] for row in rows[:2]] == ["You said: hello", "[Be brief] You said: world"]
    assert [row["status"] for row in rows] == ["completed", "completed", "failed", "failed"]
    assert rows[3]["error"]["message"] == "Emulated failure inside the output file."
    assert rows[0]["response_id"].startswith("chatcmpl-") and rows[0]["usage"]["total_tokens"] == 4
    assert "4 items: 2 completed, 2 failed" in fetched.stderr

    listed = json.loads(qwen("batch", "list", "--json").stdout)
    assert listed[0]["batch_id"] == batch_id and listed[0]["fetched_to"] == [str(out)]


def test_the_batch_lines_are_chat_completions_requests(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", [{"id": "x", "prompt": "@@words=80", "instructions": "Be kind"}])
    assert qwen("batch", "submit", str(items), "-m", "qwen-plus", "--max-output-tokens", "64").returncode == 0
    created = calls(quick, "POST", "/batches")[0]["body"]
    assert created["endpoint"] == "/v1/chat/completions" and created["completion_window"] == "24h"
    document = settle(qwen, "last")
    assert document["batch"]["input_file_id"] == created["input_file_id"]
    row = lines(qwen("batch", "fetch", "last", "--full").stdout)[0]
    assert row["status"] == "incomplete"  # max_tokens cut the 80 words: finish_reason "length"
    assert len(row["text"].split()) == 64
    assert row["response"]["custom_id"] == "x" and row["response"]["response"]["body"]["object"] == "chat.completion"


def test_fetch_refuses_with_exit_9_until_the_job_has_settled(qwen, emulator: Emulator, tmp_path: Path) -> None:
    emulator.set_faults(batch_step_seconds=30)
    items = write_items(tmp_path / "items.jsonl", ["a"])
    batch_id = qwen("batch", "submit", str(items)).stdout.strip()
    result = qwen("batch", "fetch", batch_id, "-O", str(tmp_path / "out.jsonl"))
    assert result.returncode == 9
    assert f"{batch_id} is validating" in result.stderr and "fetch it once it has settled" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_submit_wait_writes_the_results_when_the_job_settles(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["one", "two"])
    out = tmp_path / "out.jsonl"
    result = qwen("batch", "submit", str(items), "--wait", "-O", str(out), timeout=60)
    assert result.returncode == 0, result.stderr
    assert [row["text"] for row in lines(out.read_text())] == ["You said: one", "You said: two"]
    assert result.stdout == ""  # the results went to the file; the id is in the notes
    assert "submitted batch_" in result.stderr


def test_the_test_model_goes_to_the_test_url(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["one", "two"])
    result = qwen("batch", "submit", str(items), "--test", "--wait", timeout=60)
    assert result.returncode == 0, result.stderr
    assert calls(quick, "POST", "/batches")[0]["body"]["endpoint"] == "/v1/chat/ds-test"
    assert [row["text"] for row in lines(result.stdout)] == ["This is a test result."] * 2


def test_what_a_batch_line_cannot_carry_is_refused_before_any_upload(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "b"])
    for flags, message in (
        (["--web"], "built-in tool web_search has no Chat Completions mapping"),
        (["--previous", "resp_123"], "previous_response_id"),
        (["-j", "4"], "--jobs applies to qwen batch run"),
        (["-O", "x.jsonl"], "-O applies with --wait"),
        (["--window", "12h"], "completion window '12h'"),
    ):
        result = qwen("batch", "submit", str(items), *flags)
        assert result.returncode == 2, (flags, result.stderr)
        assert message in result.stderr, (flags, result.stderr)
    mixed = write_items(
        tmp_path / "mixed.jsonl", [{"prompt": "a", "model": "qwen-plus"}, {"prompt": "b", "model": "qwen-max"}]
    )
    result = qwen("batch", "submit", str(mixed))
    assert result.returncode == 2 and 'item "2" (input line 2)' in result.stderr, result.stderr
    assert calls(quick, "POST", "/files") == [] and calls(quick, "POST", "/batches") == []


def test_cancel_says_completed_requests_are_billed_and_fetch_keeps_them(
    qwen, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.set_faults(batch_step_seconds=0.5)
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(4)])
    batch_id = qwen("batch", "submit", str(items)).stdout.strip()
    result = qwen("batch", "cancel", batch_id)
    assert result.returncode == 0, result.stderr
    assert f"{batch_id}  cancelling" in result.stdout
    assert "requests that had already completed are still billed" in result.stderr
    assert settle(qwen, batch_id)["batch"]["status"] == "cancelled"
    out = tmp_path / "out.jsonl"
    fetched = qwen("batch", "fetch", batch_id, "-O", str(out))
    rows = lines(out.read_text())
    assert [row["id"] for row in rows] == ["1", "2", "3", "4"]  # every item once, finished or not
    assert fetched.returncode == (8 if any(row["status"] == "failed" for row in rows) else 0)
    again = qwen("batch", "cancel", batch_id)
    assert (
        again.returncode == 1
        and f"{batch_id} has settled already (cancelled): there is nothing to cancel" in again.stderr
    )


def test_an_expired_job_yields_its_finished_part_and_fails_the_rest(qwen, emulator: Emulator, tmp_path: Path) -> None:
    emulator.set_faults(batch_step_seconds=STEP, batch_expire=True)
    items = write_items(tmp_path / "items.jsonl", [f"item {n}" for n in range(4)])
    batch_id = qwen("batch", "submit", str(items)).stdout.strip()
    assert settle(qwen, batch_id)["batch"]["status"] == "expired"
    out = tmp_path / "out.jsonl"
    fetched = qwen("batch", "fetch", batch_id, "-O", str(out))
    assert fetched.returncode == 8
    rows = lines(out.read_text())
    assert [row["id"] for row in rows] == ["1", "2", "3", "4"]
    assert {row["status"] for row in rows} == {"completed", "failed"}
    never_ran = [row["error"] for row in rows if row["status"] == "failed"]
    assert never_ran and all(
        error
        == {"type": "not_run", "message": "not run: the job's window ended before it (not billed)", "code": "expired"}
        for error in never_ran
    )


def test_a_lost_create_reply_is_found_again_and_never_creates_a_second_job(
    qwen, quick: Emulator, tmp_path: Path
) -> None:
    quick.set_faults(batch_step_seconds=STEP, batch_create_lost=1)
    items = write_items(tmp_path / "items.jsonl", ["a"])
    result = qwen("batch", "submit", str(items))
    assert result.returncode == 0, result.stderr
    assert len(calls(quick, "POST", "/batches")) == 1  # sent once; the job was then found by its input file
    assert result.stdout.strip().startswith("batch_")


def test_fetch_raw_and_delete(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a", "@@fail"])
    batch_id = qwen("batch", "submit", str(items)).stdout.strip()
    settle(qwen, batch_id)
    raw = qwen("batch", "fetch", batch_id, "--raw", "--delete")
    assert raw.returncode == 0, raw.stderr
    provider = lines(raw.stdout)
    assert sorted(line["custom_id"] for line in provider) == ["1", "2"]
    assert "deleted the job's 3 files on the server" in raw.stderr
    assert len(calls(quick, "DELETE", "")) == 3


def test_history_usage_counts_fetched_answers_at_the_batch_price(
    qwen, quick: Emulator, tmp_path: Path, qwen_env
) -> None:
    config = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen"
    config.mkdir(parents=True)
    (config / "config.yaml").write_text("prices:\n  currency: USD\n  qwen-plus: {input: 1000000, output: 1000000}\n")
    items = write_items(tmp_path / "items.jsonl", ["hello"])  # 1 input token, 3 output tokens
    batch_id = qwen("batch", "submit", str(items)).stdout.strip()
    settle(qwen, batch_id)
    fetched = qwen("batch", "fetch", batch_id)
    assert fetched.returncode == 0 and "cost ≈ 2.0000 USD at the batch price" in fetched.stderr
    usage = json.loads(qwen("history", "usage", "--json").stdout)
    assert usage["totals"]["cost"] == 2.0  # (1 + 3) tokens at half of 1 USD a token
    qwen("batch", "fetch", batch_id)  # fetched twice: still one entry
    assert json.loads(qwen("history", "usage", "--json").stdout)["totals"]["responses"] == 1


def test_a_job_not_submitted_from_here(qwen, quick: Emulator, tmp_path: Path) -> None:
    unknown = "batch_0123abcd-0000-0000-0000-000000000000"
    fetched = qwen("batch", "fetch", unknown)
    assert fetched.returncode == 2 and "was not submitted from here, so its items are unknown" in fetched.stderr
    asked = qwen("batch", "status", unknown)  # a full id is still asked of the provider, which does not know it
    assert asked.returncode == 1 and calls(quick, "GET", f"/batches/{unknown}")
    nothing = qwen("batch", "status", "nothing-like-it")
    assert nothing.returncode == 2


def test_the_job_record_is_private_and_holds_no_key(qwen, quick: Emulator, tmp_path: Path, qwen_env) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a"])
    batch_id = qwen("batch", "submit", str(items)).stdout.strip()
    folder = Path(qwen_env["XDG_DATA_HOME"]) / "qwen" / "batches"
    record = folder / f"{batch_id}.json"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and stat.S_IMODE(os.stat(record).st_mode) == 0o600
    assert API_KEY not in record.read_text() and json.loads(record.read_text())["items"] == 1


def test_fetch_no_history_records_nothing_and_o_is_refused(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["hello"])
    batch_id = qwen("batch", "submit", str(items)).stdout.strip()
    settle(qwen, batch_id)
    refused = qwen("batch", "fetch", batch_id, "-o", "json")
    assert refused.returncode == 2 and "-o and --json do not apply" in refused.stderr
    fetched = qwen("batch", "fetch", batch_id, "--no-history")
    assert fetched.returncode == 0 and lines(fetched.stdout)[0]["text"] == "You said: hello"
    listed = qwen("history", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_submit_wait_checks_its_results_file_before_anything_is_uploaded(qwen, quick: Emulator, tmp_path: Path) -> None:
    items = write_items(tmp_path / "items.jsonl", ["a"])
    for out, message in ((tmp_path / "missing" / "out.jsonl", "does not exist"), (tmp_path, "it is a folder")):
        result = qwen("batch", "submit", str(items), "--wait", "-O", str(out))
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert calls(quick, "POST", "/files") == [] and calls(quick, "POST", "/batches") == []
