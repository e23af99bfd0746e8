"""The batch engine's parts in-process: pacing (AIMD, --rpm, --tpm), retries per item, the reorder window, the
resumable results file, and reading items."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from qwen_cli.api.request import PreparedRequest
from qwen_cli.batch import results
from qwen_cli.batch.items import Items
from qwen_cli.batch.local import Engine, Finished, Work
from qwen_cli.batch.outfile import OrderedStdout, ResultsFile
from qwen_cli.batch.pacing import Pacer
from qwen_cli.errors import ApiError, TransientError, UsageError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- pacing ----------------------------------------------------------------------------------------------


def test_a_rate_limit_halves_what_may_be_in_flight_and_successes_bring_it_back() -> None:
    clock = Clock()
    pacer = Pacer(8, clock=clock)
    assert pacer.rate_limited(retry_after=2.0) == 2.0
    assert pacer.limit == 4
    assert not pacer.try_acquire()  # paused until Retry-After has passed
    clock.now += 2.0
    taken = sum(pacer.try_acquire() for _ in range(8))
    assert taken == 4
    for _ in range(40):
        pacer.succeeded(0)
    assert pacer.limit == 8  # additive increase, capped at --jobs


def test_repeated_rate_limits_without_retry_after_pause_longer_each_time() -> None:
    clock = Clock()
    pacer = Pacer(4, clock=clock)
    waits = [pacer.rate_limited(None) for _ in range(3)]
    assert waits[0] == 1.0 and waits[1] == pytest.approx(2.0) and waits[2] == pytest.approx(4.0)
    assert pacer.limit == 1  # never below one


def test_rpm_admits_that_many_requests_a_minute() -> None:
    clock = Clock()
    pacer = Pacer(100, rpm=3, clock=clock)
    assert [pacer.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.now += 60.0
    assert pacer.try_acquire()


def test_an_item_larger_than_the_whole_tpm_budget_is_sent_alone_with_a_warning() -> None:
    clock = Clock()
    warnings: list[str] = []
    pacer = Pacer(100, tpm=5, clock=clock, warn=warnings.append)
    assert pacer.try_acquire()
    pacer.release()
    pacer.succeeded(6)
    assert not pacer.try_acquire()  # the minute's budget is spent
    clock.now += 61.0
    assert pacer.try_acquire() and not pacer.try_acquire()  # one at a time, never none
    assert warnings == ["warning: an item uses 6 tokens on average, more than --tpm 5: items are sent one a minute"]


def test_tpm_sends_one_request_until_a_reply_says_what_an_item_costs() -> None:
    pacer = Pacer(32, tpm=1000, clock=Clock())
    assert [pacer.try_acquire() for _ in range(3)] == [True, False, False]
    pacer.release()
    pacer.succeeded(100)
    assert [pacer.try_acquire() for _ in range(10)] == [True] * 9 + [False]  # 100 used + 9 x 100 expected


def test_tpm_waits_while_the_last_minutes_tokens_and_an_average_item_would_pass_it() -> None:
    clock = Clock()
    pacer = Pacer(100, tpm=1000, clock=clock)
    assert pacer.try_acquire()
    pacer.release()
    pacer.succeeded(600)
    assert not pacer.try_acquire()  # 600 used + 600 expected > 1000
    clock.now += 61.0
    assert pacer.try_acquire()


# --- the engine ------------------------------------------------------------------------------------------


def work(order: int) -> Work:
    request = PreparedRequest("POST", "http://127.0.0.1/v1/responses", {}, {"input": f"item {order}"})
    return Work(order, str(order + 1), request, f"digest-{order}")


def answer(text: str) -> dict:
    return {
        "id": f"resp_{text}",
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": text}]}],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
    }


def run_engine(send, count: int, **options) -> tuple[list[Finished], bool]:
    """The engine on `count` works, in a thread: a bug that loses a result must fail the test, not hang it."""
    received: list[Finished] = []
    outcome: list[bool] = []
    engine = Engine(send=send, pacer=Pacer(4), jobs=4, max_retries=2, sleep=lambda seconds: None, **options)
    runner = threading.Thread(
        target=lambda: outcome.append(engine.run((work(n) for n in range(count)), received.append))
    )
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive(), "the engine never finished: a result was lost"
    return received, outcome[0]


def rate_limit() -> TransientError:
    error = TransientError("rate limited")
    error.retryable = error.rate_limited = True
    return error


def test_each_item_is_retried_on_its_own_and_failures_do_not_stop_the_rest() -> None:
    attempts: dict[str, int] = {}
    lock = threading.Lock()

    def send(request: PreparedRequest) -> dict:
        prompt = request.body["input"]
        with lock:
            attempts[prompt] = attempts.get(prompt, 0) + 1
            seen = attempts[prompt]
        if prompt == "item 1" and seen == 1:
            raise rate_limit()
        if prompt == "item 2" and seen <= 2:
            error = TransientError("connection reset")
            error.retryable = True
            raise error
        if prompt == "item 3":
            raise ApiError("bad request", code="InvalidParameter")
        return answer(prompt)

    received, completed = run_engine(send, 6)
    by_id = {finished.result["id"]: finished.result for finished in received}
    assert completed and len(by_id) == 6
    assert attempts["item 1"] == 2 and by_id["2"]["status"] == "completed"
    assert attempts["item 2"] == 3 and by_id["3"]["status"] == "completed"
    assert attempts["item 3"] == 1  # a refusal is not retried
    assert by_id["4"]["status"] == "failed" and by_id["4"]["error"]["code"] == "InvalidParameter"


def test_a_surprise_in_one_item_fails_that_item_only() -> None:
    def send(request: PreparedRequest) -> dict:
        if request.body["input"] == "item 0":
            raise RuntimeError("boom")
        return answer(request.body["input"])

    received, _ = run_engine(send, 3)
    statuses = sorted((finished.result["id"], finished.result["status"]) for finished in received)
    assert statuses == [("1", "failed"), ("2", "completed"), ("3", "completed")]


def test_fail_fast_stops_feeding_after_a_failure() -> None:
    def send(request: PreparedRequest) -> dict:
        raise ApiError("no")

    received, completed = run_engine(send, 50, fail_fast=True)
    assert not completed and len(received) <= 4  # at most what was in flight when the first failure came back


def test_results_say_function_calls_and_incomplete() -> None:
    calls = {
        "id": "resp_c",
        "status": "completed",
        "output": [{"type": "function_call", "name": "f", "call_id": "c", "arguments": "{}"}],
    }
    cut = {**answer("partial"), "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    assert results.of_response("a", calls, "d", 0.1, False)["status"] == "function_calls"
    assert results.of_response("b", cut, "d", 0.1, False)["status"] == "incomplete"


# --- where results go -------------------------------------------------------------------------------------


def test_stdout_keeps_input_order_within_its_window() -> None:
    out = io.StringIO()
    window = OrderedStdout(out, window=3, unordered=False)
    window.write(1, {"id": "b"})
    window.write(2, {"id": "c"})
    assert out.getvalue() == "" and not window.may_send(3)
    window.write(0, {"id": "a"})
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == ["a", "b", "c"]
    assert window.may_send(3)


def result(item_id: str, status: str = "completed", digest: str = "d") -> dict:
    return results.result_line(item_id, status, digest=digest, text=f"answer {item_id}")


def test_the_results_file_keeps_settled_lines_and_drops_failed_torn_and_superseded(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    rows = [
        result("a"),
        result("b", "failed"),
        result("c", digest="old"),
        result("c", digest="new"),
        result("d", "incomplete"),
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + "not json\n" + '{"id": "e", "sta')
    with ResultsFile(str(path)).open() as file:
        assert file.settled == {"a": "d", "c": "new", "d": "d"}  # b failed; the first c, garbage and the torn end go
        file.write(result("b"))
        file.write(result("e"))
        file.sort({"e": 0, "d": 1, "c": 2, "b": 3, "a": 4}.get)
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["e", "d", "c", "b", "a"]


def test_sorting_keeps_one_line_per_id_and_unknown_ids_last(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with ResultsFile(str(path)).open() as file:
        for row in (result("x"), result("b"), result("a"), result("b", digest="again")):
            file.write(row)
        file.sort({"a": 0, "b": 1}.get)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(row["id"], row["request_digest"]) for row in rows] == [("a", "d"), ("b", "again"), ("x", "d")]


def test_a_results_file_that_cannot_be_opened_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot open the results file"):
        ResultsFile(str(tmp_path / "missing" / "out.jsonl")).open()


# --- items ----------------------------------------------------------------------------------------------


def test_items_from_several_sources_get_ids_naming_their_source(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('"one"\n\n{"id": null, "prompt": "two"}\n')
    stdin = io.BytesIO(b'{"prompt": "three", "images": ["https://example.com/x.png"]}')  # no final newline
    with Items((str(tmp_path / "a.jsonl"), "-"), (), stdin) as items:
        assert items.check() == 3
        listed = list(items.iterate())
    assert [item.id for item in listed] == [f"{tmp_path / 'a.jsonl'}:1", f"{tmp_path / 'a.jsonl'}:3", "stdin:1"]
    assert listed[2].images == ("https://example.com/x.png",)
    assert items.position("stdin:1") == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "is a JSON list"),
        ('{"prompt": 3}', '"prompt" must be a string'),
        ('{"prompt": "a", "input": []}', '"input" must be a non-empty list'),
        ('{"prompt": "a", "input": [{"x": 1}]}', "item 1 is not an input item"),
        ('{"prompt": "a", "values": {"input": "x"}}', "cannot set 'input'"),
        ('{"prompt": "a", "id": ""}', "an id is 1 to 256 printable characters"),
        ('{"prompt": NaN}', "not valid JSON"),
    ],
)
def test_a_bad_item_is_named_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('"fine"\n' + line + "\n")
    with Items((str(path),), (), None) as items, pytest.raises(UsageError) as caught:
        items.check()
    assert f"{path} line 2" in caught.value.message and message in caught.value.message


def test_a_line_longer_than_the_limit_is_refused_without_being_held(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("qwen_cli.batch.items.MAX_LINE_BYTES", 64)
    path = tmp_path / "items.jsonl"
    path.write_text('"short"\n"' + "x" * 1000 + '"\n')
    with Items((str(path),), (), None) as items, pytest.raises(UsageError) as caught:
        items.check()
    assert caught.value.message.startswith(f"{path} line 2 is longer than")
