"""Tests for qwen_cli.batch.jobs: the local records of submitted jobs, their privacy, finding one by `last`, id or
prefix, updating them, and one-line errors for damaged or foreign records."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from qwen_cli.batch import jobs
from qwen_cli.batch.jobs import Job, UnknownJob
from qwen_cli.errors import ExitCode, UsageError

FIXTURES = Path(__file__).parent / "fixtures" / "batch"
BASE = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
FIRST = "batch_fa05d570-fa04-4935-8b80-2b9c1a4b3ee4"
SECOND = "batch_fa05d999-0000-4935-8b80-2b9c1a4b3ee4"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path / "home")}


def job(batch_id: str = FIRST, created_at: float = 1_789_000_000.0, **fields: object) -> Job:
    values: dict[str, object] = {
        "input_file_id": "file-batch-1",
        "base_url": BASE,
        "model": "qwen-plus",
        "window": "24h",
    }
    values.update(fields)
    return Job(batch_id=batch_id, created_at=created_at, **values)  # type: ignore[arg-type]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def error_of(call: object, *args: object) -> UsageError:
    with pytest.raises(UsageError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.exit_code == ExitCode.USAGE and "\n" not in caught.value.message
    return caught.value


# --- saving and loading --------------------------------------------------------------------------------------------


def test_a_saved_job_loads_back_with_its_items_in_order_and_its_files_private(env: dict[str, str]) -> None:
    items = [("b", "sha256:2"), ("a", "sha256:1"), ("ü", None)]
    saved = jobs.save(job(test=True), items, env)

    assert saved.items == 3
    assert jobs.load(FIRST, env) == saved
    assert list(jobs.items_of(FIRST, env)) == items
    assert jobs.digests_of(FIRST, env) == {"b": "sha256:2", "a": "sha256:1", "ü": None}
    folder = jobs.jobs_dir(env)
    assert folder == Path(env["XDG_DATA_HOME"]) / "qwen" / "batches"
    assert (mode(folder), mode(folder / f"{FIRST}.json"), mode(folder / f"{FIRST}.items.jsonl")) == (
        0o700,
        0o600,
        0o600,
    )


def test_the_endpoint_is_recorded_without_user_password_or_query(env: dict[str, str]) -> None:
    saved = jobs.save(job(base_url="https://me:s3cret@proxy.test:8443/compatible-mode/v1?x=1"), [], env)

    assert saved.base_url == "https://proxy.test:8443/compatible-mode/v1"
    assert "s3cret" not in (jobs.jobs_dir(env) / f"{FIRST}.json").read_text(encoding="utf-8")


def test_a_loosened_folder_is_made_private_again(env: dict[str, str]) -> None:
    jobs.save(job(), [], env)
    folder = jobs.jobs_dir(env)
    folder.chmod(0o755)

    jobs.save(job(SECOND), [], env)
    assert mode(folder) == 0o700


def test_an_id_that_is_not_one_is_refused_before_any_file_is_touched(env: dict[str, str]) -> None:
    error = error_of(jobs.save, job("../../etc/passwd"), [], env)
    assert error.message.startswith('"../../etc/passwd" is not a batch id')
    assert not jobs.jobs_dir(env).exists()


# --- finding -------------------------------------------------------------------------------------------------------


def test_jobs_are_listed_newest_first_and_last_is_the_newest(env: dict[str, str]) -> None:
    jobs.save(job(FIRST, created_at=100.0), [], env)
    jobs.save(job(SECOND, created_at=200.0), [], env)

    assert [found.batch_id for found in jobs.list_jobs(env)] == [SECOND, FIRST]
    assert jobs.resolve("last", env).batch_id == SECOND


def test_an_id_or_an_unambiguous_prefix_finds_a_job_with_or_without_batch_(env: dict[str, str]) -> None:
    jobs.save(job(FIRST), [], env)
    jobs.save(job(SECOND), [], env)

    assert jobs.resolve(FIRST, env).batch_id == FIRST
    assert jobs.resolve("batch_fa05d5", env).batch_id == FIRST
    assert jobs.resolve("fa05d9", env).batch_id == SECOND
    with pytest.raises(UsageError) as caught:
        jobs.resolve("fa05d", env)
    assert caught.value.message == f"'fa05d' matches 2 batch jobs; give more of the id:\n  {FIRST}\n  {SECOND}"


def test_nothing_recorded_or_nothing_matching_is_an_unknown_job(env: dict[str, str]) -> None:
    with pytest.raises(UnknownJob, match="no batch job is recorded here; submit one with qwen batch submit"):
        jobs.resolve("last", env)
    jobs.save(job(), [], env)
    with pytest.raises(UnknownJob, match="no recorded batch job matches 'zzz'"):
        jobs.resolve("zzz", env)
    with pytest.raises(UnknownJob, match=f"no local record of the batch job {SECOND}"):
        jobs.load(SECOND, env)


# --- updating ------------------------------------------------------------------------------------------------------


def test_the_providers_batch_object_updates_status_counts_and_file_ids(env: dict[str, str]) -> None:
    jobs.save(job(), [("a", None)], env)
    batch = json.loads((FIXTURES / "batch-completed.json").read_text(encoding="utf-8"))

    updated = jobs.record_batch(FIRST, batch, env)
    assert (updated.status, updated.counts) == ("completed", batch["request_counts"])
    assert (updated.output_file_id, updated.error_file_id) == (batch["output_file_id"], batch["error_file_id"])
    assert updated.updated_at is not None
    assert jobs.load(FIRST, env) == updated
    assert list(jobs.items_of(FIRST, env)) == [("a", None)]


def test_where_results_were_fetched_is_noted_once_per_place(env: dict[str, str]) -> None:
    jobs.save(job(), [], env)
    jobs.add_fetched(FIRST, "out.jsonl", env)
    jobs.add_fetched(FIRST, "again.jsonl", env)
    jobs.add_fetched(FIRST, "out.jsonl", env)

    assert jobs.load(FIRST, env).fetched_to == ("out.jsonl", "again.jsonl")


def test_updating_a_job_that_is_not_recorded_is_an_unknown_job(env: dict[str, str]) -> None:
    with pytest.raises(UnknownJob):
        jobs.update(FIRST, env, status="completed")


# --- damaged and foreign records -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a batch job record qwen knows"),
        ('{"version": 99}', "not a batch job record qwen knows"),
        ('{"version": 1, "batch_id": 5}', "'batch_id' has the wrong type"),
        ('{"version": 1, "batch_id": "x"}', "'input_file_id' is missing"),
    ],
)
def test_a_damaged_record_is_one_line_naming_the_file(env: dict[str, str], text: str, reason: str) -> None:
    jobs.save(job(), [], env)
    path = jobs.jobs_dir(env) / f"{FIRST}.json"
    path.write_text(text, encoding="utf-8")

    error = error_of(jobs.load, FIRST, env)
    assert error.message.startswith(f"the batch job record {path} cannot be read ({reason}); move it away")


def test_a_record_naming_another_job_is_damaged(env: dict[str, str]) -> None:
    jobs.save(job(), [], env)
    folder = jobs.jobs_dir(env)
    (folder / f"{FIRST}.json").rename(folder / f"{SECOND}.json")

    assert "(it names another job)" in error_of(jobs.load, SECOND, env).message


def test_a_damaged_record_is_left_out_of_the_list_with_a_warning_or_raised_without_one(env: dict[str, str]) -> None:
    jobs.save(job(FIRST), [], env)
    jobs.save(job(SECOND), [], env)
    (jobs.jobs_dir(env) / f"{SECOND}.json").write_text("{", encoding="utf-8")
    warnings: list[str] = []

    assert [found.batch_id for found in jobs.list_jobs(env, warnings.append)] == [FIRST]
    assert len(warnings) == 1 and warnings[0].startswith("warning: the batch job record ")
    error_of(jobs.list_jobs, env)


def test_a_damaged_items_file_names_its_line(env: dict[str, str]) -> None:
    jobs.save(job(), [("a", "d")], env)
    (jobs.jobs_dir(env) / f"{FIRST}.items.jsonl").write_text('{"id": "a"}\n\nnot json\n', encoding="utf-8")

    assert "(line 3 is not an item)" in error_of(lambda: list(jobs.items_of(FIRST, env))).message


def test_a_record_others_can_change_is_refused_and_one_they_can_read_made_private(env: dict[str, str]) -> None:
    jobs.save(job(), [], env)
    path = jobs.jobs_dir(env) / f"{FIRST}.json"
    path.chmod(0o644)
    assert jobs.load(FIRST, env).batch_id == FIRST
    assert mode(path) == 0o600

    path.chmod(0o666)
    error = error_of(jobs.load, FIRST, env)
    assert error.message == (
        f"the batch job record {path} can be changed by other users, so it is not used; "
        f"make it yours alone (chmod 600 {path}) if its contents are yours, or move it away"
    )


def test_a_record_of_another_user_is_refused(env: dict[str, str]) -> None:
    jobs.save(job(), [], env)
    path = jobs.jobs_dir(env) / f"{FIRST}.json"
    os.chown(path, 65534, 65534)  # nobody's (the suite runs as root, as the e2e tests of the history do)
    try:
        error = error_of(jobs.resolve, "last", env)
    finally:
        os.chown(path, os.geteuid(), os.getegid())
    assert error.message == f"the batch job record {path} belongs to another user, so it is not used; move it away"
