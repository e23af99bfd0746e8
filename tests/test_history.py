"""The local history store: what it records, how ids resolve, threads, clearing, privacy and concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from qwen_cli.errors import UsageError
from qwen_cli.history import EmptyHistory, Entry, History, history_path, parse_age, resolve, why_not_continuable


@pytest.fixture
def history(tmp_path: Path) -> History:
    store = History(tmp_path / "qwen" / "history.db")
    yield store
    store.close()


def test_a_recorded_entry_reads_back_whole(history: History) -> None:
    entry = Entry(
        id="resp_1",
        parent_id=None,
        created_at=1000.0,
        model="qwen-plus",
        prompt="hi",
        answer="hello",
        reasoning="thinking",
        status="completed",
        usage={"input_tokens": 1},
        options={"temperature": 0.5},
    )
    history.record(entry)
    assert history.get("resp_1") == entry


def test_reading_an_absent_history_creates_no_file(tmp_path: Path) -> None:
    store = History(tmp_path / "none" / "history.db")
    assert store.latest(5) == [] and store.get("x") is None
    assert not (tmp_path / "none").exists()


def test_latest_is_newest_first(history: History) -> None:
    for n in range(5):
        history.record(Entry(id=f"resp_{n}", created_at=1000.0 + n, status="completed"))
    assert [entry.id for entry in history.latest(3)] == ["resp_4", "resp_3", "resp_2"]


def test_last_is_the_newest_response_whatever_became_of_it(history: History) -> None:
    history.record(Entry(id="resp_ok", created_at=1.0, status="completed"))
    history.record(Entry(id="resp_failed", created_at=2.0, status="failed"))
    assert resolve(history, "last").id == "resp_failed"


def test_the_newest_continuable_is_finished_or_cut_and_stored(history: History) -> None:
    history.record(Entry(id="resp_ok", created_at=1.0, status="completed", options={"store": True}))
    history.record(Entry(id="resp_cut", created_at=2.0, status="cut"))
    assert history.last_continuable().id == "resp_cut"
    history.record(Entry(id="resp_unstored", created_at=3.0, status="completed", options={"store": False}))
    history.record(Entry(id="resp_failed", created_at=4.0, status="failed"))
    assert history.last_continuable().id == "resp_cut"
    assert [why_not_continuable(entry) for entry in history.latest(4)] == [
        "failed",
        "was sent with --no-store",
        None,
        None,
    ]


def test_last_with_an_empty_history_says_what_to_do(history: History) -> None:
    with pytest.raises(EmptyHistory, match="the local history is empty"):
        resolve(history, "last")


def test_a_unique_prefix_resolves_and_an_ambiguous_one_is_refused_naming_the_candidates(history: History) -> None:
    history.record(Entry(id="resp_abc111", created_at=1.0, status="completed", prompt="first\nquestion"))
    history.record(Entry(id="resp_abc222", created_at=2.0, status="completed", prompt="second"))
    assert resolve(history, "resp_abc2").id == "resp_abc222"
    with pytest.raises(UsageError) as refused:
        resolve(history, "resp_abc")
    first, second = (time.strftime("%Y-%m-%d %H:%M", time.localtime(when)) for when in (1.0, 2.0))
    assert refused.value.message == (
        "'resp_abc' matches 2 responses in the history; give more of the id:\n"
        f"  resp_abc222  {second}  second\n"
        f"  resp_abc111  {first}  first question"
    )
    assert resolve(history, "resp_zzz") is None


def test_a_prefix_may_leave_out_resp_(history: History) -> None:
    history.record(Entry(id="resp_d237aa", status="completed"))
    history.record(Entry(id="resp_e1", status="completed"))
    assert resolve(history, "d237").id == "resp_d237aa"
    assert resolve(history, "d237aa").id == "resp_d237aa"
    assert resolve(history, "e1").id == "resp_e1"
    assert resolve(history, "f") is None


def test_an_ambiguous_prefix_shows_a_few_candidates_newest_first(history: History) -> None:
    for n in range(12):
        history.record(Entry(id=f"resp_x{n:02d}", created_at=float(n), status="completed", prompt=f"p{n}"))
    with pytest.raises(UsageError) as refused:
        resolve(history, "x")
    lines = refused.value.message.splitlines()
    assert lines[0] == "'x' matches 10+ responses in the history; give more of the id:"
    assert [line.split()[0] for line in lines[1:]] == [
        "resp_x11",
        "resp_x10",
        "resp_x09",
        "resp_x08",
        "resp_x07",
        "...",
    ]


def test_prefix_matching_treats_sql_wildcards_literally(history: History) -> None:
    history.record(Entry(id="resp_a_b", status="completed"))
    history.record(Entry(id="resp_axb", status="completed"))
    assert resolve(history, "resp_a_").id == "resp_a_b"
    assert resolve(history, "resp_%") is None


def test_thread_runs_from_the_first_turn_to_the_given_one_and_forks_keep_their_own_chain(history: History) -> None:
    history.record(Entry(id="r1", created_at=1, status="completed"))
    history.record(Entry(id="r2", parent_id="r1", created_at=2, status="completed"))
    history.record(Entry(id="r3", parent_id="r2", created_at=3, status="completed"))
    history.record(Entry(id="r2b", parent_id="r1", created_at=4, status="completed"))  # a fork from r1
    assert [entry.id for entry in history.thread("r3")] == ["r1", "r2", "r3"]
    assert [entry.id for entry in history.thread("r2b")] == ["r1", "r2b"]


def test_clear_all_or_only_older_entries(history: History) -> None:
    now = time.time()
    history.record(Entry(id="old", created_at=now - 40 * 86400))
    history.record(Entry(id="new", created_at=now))
    assert history.clear(older_than=30 * 86400) == 1
    assert [entry.id for entry in history.latest(10)] == ["new"]
    assert history.clear() == 1 and history.latest(10) == []


def test_files_are_private_to_their_owner(history: History) -> None:
    history.record(Entry(id="resp_1"))
    assert stat.S_IMODE(history.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(history.path.parent.stat().st_mode) == 0o700


def test_history_path_follows_xdg_data_home() -> None:
    assert history_path({"XDG_DATA_HOME": "/data"}) == Path("/data/qwen/history.db")
    assert history_path({"HOME": "/home/ada"}) == Path("/home/ada/.local/share/qwen/history.db")


@pytest.mark.parametrize(
    "text, seconds", [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("2w", 1209600), ("45s", 45)]
)
def test_ages(text: str, seconds: int) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["30", "d", "-1d", "3y", ""])
def test_bad_ages_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--older-than takes a number and a unit"):
        parse_age(text)


def write_many(path: str, worker: int) -> None:
    store = History(Path(path))
    for n in range(25):
        store.record(Entry(id=f"resp_{worker}_{n}", prompt=f"p{n}", status="completed"))
    store.close()


def test_several_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "history.db")
    workers = [multiprocessing.Process(target=write_many, args=(path, worker)) for worker in range(8)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [process.exitcode for process in workers] == [0] * 8
    assert len(History(Path(path)).latest(1000)) == 8 * 25


class LockedOnce:
    """sqlite3.connect whose connections answer "database is locked" to the first WAL switch, as a process that
    sets up a new history while another one does can be answered at once."""

    def __init__(self, real: object) -> None:
        self.real, self.refused = real, 0

    def __call__(self, *args: object, **kwargs: object) -> object:
        connection = self.real(*args, **kwargs)  # type: ignore[operator]
        if self.refused:
            return connection
        outer = self

        class Refusing:
            def __getattr__(self, name: str) -> object:
                return getattr(connection, name)

            def execute(self, sql: str, *rest: object) -> object:
                if "journal_mode" in sql:
                    outer.refused += 1
                    raise sqlite3.OperationalError("database is locked")
                return connection.execute(sql, *rest)

        return Refusing()


def test_a_history_locked_while_another_process_sets_it_up_is_tried_again_not_opened_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qwen_cli.history as history_module

    locked = LockedOnce(sqlite3.connect)
    monkeypatch.setattr(history_module.sqlite3, "connect", locked)
    with History(tmp_path / "history.db") as history:
        history.record(Entry(id="resp_1", prompt="hello"))
    assert locked.refused == 1
    monkeypatch.undo()
    with History(tmp_path / "history.db") as history:
        assert [entry.prompt for entry in history.latest(5)] == ["hello"]
