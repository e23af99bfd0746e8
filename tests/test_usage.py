"""What it cost: `qwen history usage` sums the history's tokens by model, day or preset, the config file's prices
put an estimate on them (batch results at the Batch API's half price), and a Batch API result is never continued.

In process: the price rules, the config's checks, the sums and the history's billing column (an older file gains
it). End to end: the installed `qwen` against the emulator, with its own XDG directories.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from qwen_cli import history as history_module
from qwen_cli.cli import usage_report
from qwen_cli.errors import UsageError
from qwen_cli.history import BATCH, Entry, History, open_read_only, parse_age, parse_since, why_not_continuable
from qwen_cli.settings.config import config_file_layer, prices_of
from qwen_cli.settings.prices import NO_PRICES, Price, Prices, estimate, parse_prices

PRICES = Prices(
    {"qwen-plus": Price(input=0.4, output=1.2, cached=0.08), "qwen-max": Price(input=1.6, output=6.4)}, "USD"
)
NOON = 1_780_000_000.0 - 1_780_000_000.0 % 86400 + 43200  # noon UTC on some day: the day is the same in UTC
DAY = 86400.0


def usage(input_tokens: int, output_tokens: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    """A usage object as the Responses API sends it and the history keeps it."""
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens_details": {"reasoning_tokens": reasoning},
    }


def tokens(input_tokens: int, output_tokens: int, cached: int = 0) -> dict[str, int]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "cached_tokens": cached}


# --- the price rules -----------------------------------------------------------------------------------------


def test_realtime_input_is_priced_fresh_and_cached_apart_and_output_at_the_output_price() -> None:
    # 1M input of which 250k cached, 500k output: 750k x 0.4 + 250k x 0.08 + 500k x 1.2 per million
    assert estimate(tokens(1_000_000, 500_000, 250_000), "qwen-plus", PRICES) == pytest.approx(0.3 + 0.02 + 0.6)


def test_without_a_cached_price_cached_input_costs_the_input_price() -> None:
    assert estimate(tokens(1_000_000, 0, 400_000), "qwen-max", PRICES) == pytest.approx(1.6)


def test_batch_is_half_price_with_no_cache_discount() -> None:
    realtime_uncached = estimate(tokens(2_000_000, 1_000_000), "qwen-plus", PRICES)
    assert realtime_uncached == pytest.approx(0.8 + 1.2)
    assert estimate(tokens(2_000_000, 1_000_000), "qwen-plus", PRICES, batch=True) == pytest.approx(1.0)
    # a batch result's cached tokens (the provider reports 0; were there any) cost the halved input price
    assert estimate(tokens(2_000_000, 1_000_000, 1_000_000), "qwen-plus", PRICES, batch=True) == pytest.approx(1.0)


def test_a_model_without_a_price_has_no_estimate() -> None:
    assert estimate(tokens(10, 10), "qwen3.8-flash", PRICES) is None
    assert estimate(tokens(10, 10), None, PRICES) is None
    assert estimate(tokens(10, 10), "qwen-plus", NO_PRICES) is None


def test_a_result_lines_usage_is_priced_as_it_is_and_nonsense_counts_are_zero() -> None:
    line_usage = {"input_tokens": 1_000_000, "output_tokens": 0, "total_tokens": 1_000_000, "cached_tokens": 2_000_000}
    assert estimate(line_usage, "qwen-plus", PRICES) == pytest.approx(0.08)  # cached is at most all of the input
    assert estimate({"input_tokens": -5, "output_tokens": True, "cached_tokens": "9"}, "qwen-plus", PRICES) == 0


# --- prices in the config file -----------------------------------------------------------------------------


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_prices_in_the_config_file_are_read_with_their_currency(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "model: qwen-plus\nprices:\n  currency: CNY\n  qwen-plus: {input: 0.8, output: 2, cached: 0.16}\n"
        "  qwen-max:\n    input: 2.4\n    output: 9.6\n",
    )
    assert prices_of(config_file_layer(path)) == Prices(
        {"qwen-plus": Price(0.8, 2.0, 0.16), "qwen-max": Price(2.4, 9.6, None)}, "CNY"
    )


def test_a_config_file_without_prices_gives_none(tmp_path: Path) -> None:
    assert prices_of(config_file_layer(config(tmp_path, "model: qwen-plus\n"))) == NO_PRICES


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (
            "  qwen-plus: {input: -0.4, output: 1.2}",
            "'qwen-plus': 'input' must be a number of 0 or more (per 1M tokens), not -0.4",
        ),
        (
            "  qwen-plus: {input: '0.4', output: 1.2}",
            "'qwen-plus': 'input' must be a number of 0 or more (per 1M tokens), not '0.4'",
        ),
        ("  qwen-plus: {input: true, output: 1.2}", "'input' must be a number of 0 or more (per 1M tokens), not True"),
        ("  qwen-plus: {inptu: 0.4, output: 1.2}", "'qwen-plus': unknown key 'inptu'; did you mean 'input'?"),
        (
            "  qwen-plus: {input: 0.4, output: 1.2, batch: 0.2}",
            "'qwen-plus': unknown key 'batch'; valid keys: input, output, cached",
        ),
        ("  qwen-plus: {input: 0.4}", "prices: 'qwen-plus' needs output (per 1M tokens)"),
        ("  qwen-plus: 0.4", "prices: 'qwen-plus' must be a mapping such as {input: 0.4, output: 1.2, cached: 0.08}"),
        (
            "  curency: USD",
            "prices: 'curency' must be a mapping such as {input: 0.4, output: 1.2, cached: 0.08} (per 1M tokens), not str; did you mean 'currency'?",
        ),
        ("  currency: 12", "prices: 'currency' must be a short label such as USD or CNY"),
    ],
)
def test_a_bad_price_is_refused_naming_the_file_line_and_key(tmp_path: Path, prices: str, message: str) -> None:
    path = config(tmp_path, f"model: qwen-plus\n\nprices:\n{prices}\n")
    with pytest.raises(UsageError) as caught:
        config_file_layer(path)
    assert caught.value.message.startswith(f"{path}:3: prices: ")
    assert message in caught.value.message


def test_prices_that_are_not_a_mapping_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"config.yaml:1: 'prices' must be dict, not list"):
        config_file_layer(config(tmp_path, "prices: [1, 2]\n"))


def test_a_price_that_is_not_finite_is_refused_whoever_hands_it_over(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a finite number"):  # the YAML reader refuses it first
        config_file_layer(config(tmp_path, "prices:\n  qwen-plus: {input: .inf, output: 1}\n"))
    for value in (math.inf, math.nan):
        with pytest.raises(UsageError, match="'input' must be a number of 0 or more"):
            parse_prices({"qwen-plus": {"input": value, "output": 1}}, "here")


# --- the sums --------------------------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path) -> History:
    store = History(tmp_path / "history.db")
    yield store
    store.close()


def fill(history: History) -> None:
    history.record(
        Entry(id="resp_1", created_at=NOON - DAY, model="qwen-plus", preset="review", usage=usage(1000, 200, 100, 50))
    )
    history.record(Entry(id="resp_2", created_at=NOON, model="qwen-plus", usage=usage(2_000_000, 300_000)))
    history.record(Entry(id="resp_3", created_at=NOON + 60, model="qwen-max", preset="review", usage=usage(10, 20)))
    history.record(
        Entry(
            id="chatcmpl-4", created_at=NOON + 120, model="qwen-plus", usage=usage(1_000_000, 1_000_000), billing=BATCH
        )
    )
    history.record(Entry(id="resp_5", created_at=NOON + 180, model="qwen-turbo", status="failed", usage=None))


def rows(report: usage_report.Report) -> dict[str, tuple[Any, ...]]:
    return {
        row["key"]: (
            row["responses"],
            row["input_tokens"],
            row["output_tokens"],
            row["cached_tokens"],
            row["reasoning_tokens"],
            row["cost"],
        )
        for row in usage_report.report_json(report)["rows"]
    }


def test_sums_by_model_price_batch_results_at_half_price(history: History) -> None:
    fill(history)
    report = usage_report.summarise(history.usage_records(), "model", PRICES)

    assert rows(report) == {
        # 900 x 0.4 + 100 x 0.08 + 200 x 1.2, then 2M x 0.4 + 300k x 1.2, then (1M x 0.4 + 1M x 1.2) / 2
        "qwen-plus": (3, 3_001_000, 1_300_200, 100, 50, pytest.approx(0.000608 + 1.16 + 0.8)),
        "qwen-max": (1, 10, 20, 0, 0, pytest.approx((10 * 1.6 + 20 * 6.4) / 1e6)),
        "qwen-turbo": (1, 0, 0, 0, 0, 0),  # a failed response used nothing: no price is needed for it
    }
    assert usage_report.report_json(report)["prices_known"] is True


def test_sums_by_local_day_and_by_preset(history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    fill(history)
    by_day = usage_report.summarise(history.usage_records(), "day", PRICES)
    by_preset = usage_report.summarise(history.usage_records(), "preset", PRICES)
    monkeypatch.delenv("TZ")
    time.tzset()

    yesterday, today = (time.strftime("%Y-%m-%d", time.gmtime(moment)) for moment in (NOON - DAY, NOON))
    assert {key: value[:3] for key, value in rows(by_day).items()} == {
        yesterday: (1, 1000, 200),
        today: (4, 3_000_010, 1_300_020),
    }
    assert {key: value[:3] for key, value in rows(by_preset).items()} == {
        "(none)": (3, 3_000_000, 1_300_000),
        "review": (2, 1010, 220),
    }


def test_a_model_without_a_price_leaves_its_rows_and_the_totals_without_a_cost(history: History) -> None:
    fill(history)
    only_max = Prices({"qwen-max": Price(1.6, 6.4)})
    document = usage_report.report_json(usage_report.summarise(history.usage_records(), "preset", only_max))

    assert [(row["key"], row["cost"]) for row in document["rows"]] == [("(none)", None), ("review", None)]
    assert document["totals"]["cost"] is None
    assert (document["prices_known"], document["unpriced_models"]) == (False, ["qwen-plus"])


def test_since_counts_responses_from_that_moment_on(history: History) -> None:
    fill(history)
    report = usage_report.summarise(history.usage_records(NOON), "model", PRICES, NOON)
    assert report.totals.responses == 4
    assert report.totals.input_tokens == 3_000_010


def test_the_json_document_has_every_key_always(history: History) -> None:
    empty = usage_report.report_json(usage_report.summarise(history.usage_records(), "day", NO_PRICES))
    assert empty == {
        "by": "day",
        "since": None,
        "currency": None,
        "prices_known": True,
        "unpriced_models": [],
        "rows": [],
        "totals": {
            "responses": 0,
            "batch_responses": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cached_tokens": 0,
            "reasoning_tokens": 0,
            "total_tokens": 0,
            "cost": 0.0,
        },
    }
    assert not (history.path).exists()  # summing an absent history does not create it


def test_usage_in_every_recorded_shape_is_counted() -> None:
    shapes = {
        "responses": usage(100, 40, 30, 10),
        "x_details only": {
            "input_tokens": 100,
            "output_tokens": 40,
            "input_tokens_details": {"cached_tokens": 0},
            "x_details": [{"input_tokens_details": {"cached_tokens": 30}}],
            "output_tokens_details": {"reasoning_tokens": 10},
        },
        "result line": {
            "input_tokens": 100,
            "output_tokens": 40,
            "total_tokens": 140,
            "cached_tokens": 30,
            "reasoning_tokens": 10,
        },
        "chat completions": {
            "prompt_tokens": 100,
            "completion_tokens": 40,
            "total_tokens": 140,
            "prompt_tokens_details": {"cached_tokens": 30},
            "completion_tokens_details": {"reasoning_tokens": 10},
        },
    }
    for name, shape in shapes.items():
        counted = usage_report.tokens_of(shape)
        assert (counted.input_tokens, counted.output_tokens, counted.cached_tokens, counted.reasoning_tokens) == (
            100,
            40,
            30,
            10,
        ), name


def test_text_for_a_pipe_is_tab_separated_and_the_table_is_aligned(history: History) -> None:
    fill(history)
    report = usage_report.summarise(history.usage_records(), "model", PRICES)

    assert usage_report.plain_text(report).splitlines() == [
        "model\tresponses\tinput\toutput\tcached\treasoning\tcost (USD)",
        "qwen-max\t1\t10\t20\t0\t0\t0.000144",
        "qwen-plus\t3\t3001000\t1300200\t100\t50\t1.960608",
        "qwen-turbo\t1\t0\t0\t0\t0\t0.000000",
        "total\t5\t3001010\t1300220\t100\t50\t1.960752",
    ]
    assert usage_report.table_text(report).splitlines() == [
        "model       responses      input     output  cached  reasoning  cost (USD)",
        "qwen-max            1         10         20       0          0      0.0001",
        "qwen-plus           3  3,001,000  1,300,200     100         50      1.9606",
        "qwen-turbo          1          0          0       0          0      0.0000",
        "----------  ---------  ---------  ---------  ------  ---------  ----------",
        "total               5  3,001,010  1,300,220     100         50      1.9608",
    ]


# --- the billing column, and continuing -------------------------------------------------------------------


OLD_SCHEMA = """
CREATE TABLE responses (
    id TEXT PRIMARY KEY, parent_id TEXT, created_at REAL NOT NULL, model TEXT, preset TEXT,
    prompt TEXT NOT NULL DEFAULT '', answer TEXT NOT NULL DEFAULT '', reasoning TEXT NOT NULL DEFAULT '',
    status TEXT, usage TEXT, options TEXT
);
"""


def old_history(path: Path) -> Path:
    """A history file written by a qwen from before the endpoint, preset and billing columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
        db.execute(
            "INSERT INTO responses (id, created_at, model, status, usage) VALUES (?, ?, ?, ?, ?)",
            ("resp_old", NOON, "qwen-plus", "completed", json.dumps(usage(1_000_000, 0))),
        )
    db.close()
    return path


def columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        found = [row[1] for row in db.execute("PRAGMA table_info(responses)")]
    db.close()
    return found


def test_an_older_history_gains_the_billing_column_and_keeps_its_rows(tmp_path: Path) -> None:
    path = old_history(tmp_path / "history.db")
    assert "billing" not in columns(path)
    with History(path) as store:
        report = usage_report.summarise(store.usage_records(), "model", PRICES)
        store.record(Entry(id="chatcmpl-1", created_at=NOON + 1, model="qwen-plus", status="completed", billing=BATCH))
        assert store.get("chatcmpl-1").billing == BATCH
        assert store.get("resp_old").billing is None

    assert columns(path)[-1] == "billing"
    assert rows(report) == {"qwen-plus": (1, 1_000_000, 0, 0, 0, pytest.approx(0.4))}


def test_an_older_history_on_a_read_only_disk_is_summed_without_the_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = old_history(tmp_path / "history.db")
    monkeypatch.setattr(history_module, "open_database", open_read_only)  # what a read-only disk leads to
    with History(path) as store:
        report = usage_report.summarise(store.usage_records(), "model", PRICES)
        assert store.last_continuable().id == "resp_old"
    assert report.totals.input_tokens == 1_000_000
    assert "billing" not in columns(path)


def test_a_batch_result_is_never_the_response_to_continue(history: History) -> None:
    history.record(Entry(id="resp_1", created_at=1.0, status="completed"))
    history.record(Entry(id="chatcmpl-2", created_at=2.0, status="completed", billing=BATCH))

    assert history.last_continuable().id == "resp_1"
    assert why_not_continuable(history.get("chatcmpl-2")) == (
        "is a Batch API result (the Responses API cannot continue a chat.completion id)"
    )
    assert history.get("chatcmpl-2").to_json()["billing"] == "batch"


# --- --since -----------------------------------------------------------------------------------------------------


def test_since_takes_an_age_or_a_local_date_or_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert parse_since("7d", now=1_000_000.0) == 1_000_000.0 - 7 * DAY
        assert parse_since("90m", now=1_000_000.0) == 1_000_000.0 - 5400
        assert parse_since("2026-05-01", now=0) == 1_777_593_600.0
        assert parse_since("2026-05-01T09:30", now=0) == 1_777_593_600.0 + 9.5 * 3600
        assert parse_since("2026-05-01T09:30+02:00", now=0) == 1_777_593_600.0 + 7.5 * 3600
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("text", ["7", "7y", "-1d", "yesterday", "2026-13-01", "infd", "nand"])
def test_a_bad_since_is_a_usage_error_saying_what_it_takes(text: str) -> None:
    with pytest.raises(UsageError, match=r"--since takes an age \(a number and s, m, h, d or w, like 7d\) or a date"):
        parse_since(text, now=0)


@pytest.mark.parametrize("text", ["infd", "nans"])
def test_an_age_that_is_not_finite_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="--older-than takes a number and a unit"):
        parse_age(text)


# --- end to end: the installed qwen ------------------------------------------------------------------------------


def history_file(qwen_env: dict[str, str]) -> Path:
    return Path(qwen_env["XDG_DATA_HOME"]) / "qwen" / "history.db"


def config_file(qwen_env: dict[str, str], text: str) -> Path:
    path = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def recorded(qwen_env: dict[str, str], *entries: Entry) -> None:
    with History(history_file(qwen_env)) as store:
        for entry in entries:
            store.record(entry)


PRICES_YAML = "prices:\n  currency: USD\n  qwen-plus: {input: 0.4, output: 1.2, cached: 0.08}\n"


def test_e2e_the_usage_of_real_answers_is_summed_by_model(qwen, emulator) -> None:
    answers = [
        json.loads(qwen("ask", "--json", "-m", model, prompt).stdout)
        for model, prompt in (
            ("qwen-plus", "why is the sky blue"),
            ("qwen-plus", "and the sea?"),
            ("qwen3.8-max", "prove that sqrt(2) is irrational"),
        )
    ]
    result = qwen("history", "usage", "--json")

    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    sent = {
        model: [answer["usage"] for answer in answers if answer["model"] == model]
        for model in ("qwen-plus", "qwen3.8-max")
    }
    assert [
        (row["key"], row["responses"], row["input_tokens"], row["output_tokens"], row["reasoning_tokens"])
        for row in document["rows"]
    ] == [
        (
            model,
            len(used),
            sum(u["input_tokens"] for u in used),
            sum(u["output_tokens"] for u in used),
            sum(u["output_tokens_details"]["reasoning_tokens"] for u in used),
        )
        for model, used in sorted(sent.items())
    ]
    assert document["rows"][1]["reasoning_tokens"] > 0  # the thinking model's reasoning is counted
    assert document["totals"]["responses"] == 3
    assert (document["prices_known"], document["unpriced_models"], document["currency"]) == (
        False,
        ["qwen-plus", "qwen3.8-max"],
        None,
    )


def test_e2e_prices_give_an_estimate_with_batch_results_at_half_price(qwen, qwen_env) -> None:
    config_file(qwen_env, PRICES_YAML)
    recorded(
        qwen_env,
        Entry(id="resp_1", created_at=NOON, model="qwen-plus", usage=usage(2_000_000, 500_000, 1_000_000)),
        Entry(
            id="chatcmpl-2", created_at=NOON + 1, model="qwen-plus", usage=usage(1_000_000, 1_000_000), billing=BATCH
        ),
    )
    result = qwen("history", "usage", "-o", "json")

    assert result.returncode == 0
    document = json.loads(result.stdout)
    # 1M x 0.4 + 1M x 0.08 + 500k x 1.2 = 1.08, and (1M x 0.4 + 1M x 1.2) / 2 = 0.8
    assert document["totals"] == {
        "responses": 2,
        "batch_responses": 1,
        "input_tokens": 3_000_000,
        "output_tokens": 1_500_000,
        "cached_tokens": 1_000_000,
        "reasoning_tokens": 0,
        "total_tokens": 4_500_000,
        "cost": 1.88,
    }
    assert (document["currency"], document["prices_known"]) == ("USD", True)


def test_e2e_piped_text_is_tab_separated_with_notes_on_stderr(qwen, qwen_env) -> None:
    config_file(qwen_env, PRICES_YAML)
    recorded(
        qwen_env,
        Entry(id="resp_1", created_at=NOON, model="qwen-plus", usage=usage(1_000_000, 0)),
        Entry(id="resp_2", created_at=NOON + 1, model="qwen-max", usage=usage(10, 10)),
        Entry(id="chatcmpl-3", created_at=NOON + 2, model="qwen-plus", usage=usage(1_000_000, 0), billing=BATCH),
    )
    result = qwen("history", "usage")

    assert result.returncode == 0
    assert result.stdout == (
        "model\tresponses\tinput\toutput\tcached\treasoning\tcost (USD)\n"
        "qwen-max\t1\t10\t10\t0\t0\t-\n"
        "qwen-plus\t2\t2000000\t0\t0\t0\t0.600000\n"
        "total\t3\t2000010\t10\t0\t0\t-\n"
    )
    path = config_file(qwen_env, PRICES_YAML)
    assert result.stderr == (
        f"qwen: note: no price for qwen-max in {path} (prices:); a cost that includes it shows as -\n"
        "qwen: note: 1 batch result is priced at the Batch API's half price\n"
    )


def test_e2e_on_a_terminal_it_is_a_table(qwen_pty, qwen_env) -> None:
    config_file(qwen_env, PRICES_YAML)
    recorded(
        qwen_env, Entry(id="resp_1", created_at=NOON, model="qwen-plus", preset="review", usage=usage(1_234_567, 1000))
    )
    result = qwen_pty("history", "usage", "--by", "preset")

    assert result.returncode == 0
    assert result.stdout.replace("\r\n", "\n").splitlines() == [
        "preset  responses      input  output  cached  reasoning  cost (USD)",
        "review          1  1,234,567   1,000       0          0      0.4950",
        "------  ---------  ---------  ------  ------  ---------  ----------",
        "total           1  1,234,567   1,000       0          0      0.4950",
    ]


def test_e2e_by_day_and_since(qwen, qwen_env) -> None:
    now = time.time()
    recorded(
        qwen_env,
        Entry(id="resp_old", created_at=now - 10 * DAY, model="qwen-plus", usage=usage(100, 1)),
        Entry(id="resp_new", created_at=now - 60, model="qwen-plus", usage=usage(20, 2)),
    )
    utc = {"TZ": "UTC"}
    by_day = json.loads(qwen("history", "usage", "--by", "day", "--json", env=utc).stdout)
    last_week = json.loads(qwen("history", "usage", "--since", "7d", "--json", env=utc).stdout)
    cutoff = time.strftime("%Y-%m-%d", time.gmtime(now - 5 * DAY))
    since_date = json.loads(qwen("history", "usage", "--since", cutoff, "--json", env=utc).stdout)

    assert [(row["key"], row["input_tokens"]) for row in by_day["rows"]] == [
        (time.strftime("%Y-%m-%d", time.gmtime(now - 10 * DAY)), 100),
        (time.strftime("%Y-%m-%d", time.gmtime(now - 60)), 20),
    ]
    assert [(row["key"], row["input_tokens"]) for row in last_week["rows"]] == [("qwen-plus", 20)]
    assert last_week["since"] is not None
    assert since_date["totals"]["input_tokens"] == 20
    assert since_date["since"] == f"{cutoff}T00:00:00+00:00"


def test_e2e_an_empty_history_says_so_and_is_no_error(qwen, qwen_env) -> None:
    result = qwen("history", "usage")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == (
        f"qwen: the local history is empty ({history_file(qwen_env)}); every answered request is recorded there\n"
    )
    assert not history_file(qwen_env).exists()  # summing creates no history
    recorded(qwen_env, Entry(id="resp_1", created_at=NOON, model="qwen-plus", usage=usage(1, 1)))
    since = qwen("history", "usage", "--since", "1h")
    assert (since.returncode, since.stdout) == (0, "")
    assert since.stderr.startswith("qwen: no responses in the local history since ")

    document = json.loads(qwen("history", "usage", "--since", "1h", "--json").stdout)
    assert (document["rows"], document["totals"]["responses"]) == ([], 0)


def test_e2e_bad_prices_in_the_config_are_exit_2_naming_the_file_line_and_key(qwen, qwen_env) -> None:
    path = config_file(qwen_env, "model: qwen-plus\nprices:\n  qwen-plus: {inptu: 0.4, output: 1.2}\n")
    expected = f"qwen: error: {path}:2: prices: 'qwen-plus': unknown key 'inptu'; did you mean 'input'?\n"

    usage_result = qwen("history", "usage")
    ask_result = qwen("ask", "--dry-run", "hi")  # the config file is checked whole, whatever the command

    assert (usage_result.returncode, usage_result.stdout, usage_result.stderr) == (2, "", expected)
    assert (ask_result.returncode, ask_result.stderr) == (2, expected)


def test_e2e_a_bad_since_is_exit_2(qwen) -> None:
    result = qwen("history", "usage", "--since", "last tuesday")
    assert result.returncode == 2
    assert result.stderr == (
        "qwen: error: --since takes an age (a number and s, m, h, d or w, like 7d) or a date (2026-05-01,"
        " 2026-05-01T09:30); got 'last tuesday'\n"
    )


def test_e2e_a_batch_result_is_not_continued(qwen, qwen_env, emulator) -> None:
    recorded(
        qwen_env,
        Entry(id="resp_1", created_at=NOON, model="qwen-plus", status="completed", prompt="first"),
        Entry(
            id="chatcmpl-2", created_at=NOON + 1, model="qwen-plus", status="completed", prompt="second", billing=BATCH
        ),
    )
    by_id = qwen("continue", "chatcmpl-2", "go on")
    newest = qwen("ask", "-c", "go on")

    assert (by_id.returncode, by_id.stdout) == (2, "")
    assert by_id.stderr.startswith("qwen: error: response chatcmpl-2 (")
    assert by_id.stderr.endswith(
        '"second") is a Batch API result (the Responses API cannot continue a chat.completion id); start anew with qwen ask\n'
    )
    assert newest.returncode == 2
    assert "is a Batch API result" in newest.stderr and "qwen continue resp_1" in newest.stderr
    assert len(newest.stderr.splitlines()) == 1
    assert emulator.requests == []  # refused before anything was sent


def test_e2e_an_older_history_file_is_summed_and_gains_the_billing_column(qwen, qwen_env) -> None:
    path = old_history(history_file(qwen_env))
    config_file(qwen_env, PRICES_YAML)
    before = json.loads(qwen("history", "usage", "--json").stdout)
    assert qwen("ask", "-m", "qwen-plus", "hello").returncode == 0
    after = json.loads(qwen("history", "usage", "--json").stdout)

    assert (before["totals"]["responses"], before["totals"]["cost"]) == (1, 0.4)
    assert after["totals"]["responses"] == 2
    assert "billing" in columns(path)


def test_a_cost_for_a_summary_line() -> None:
    from qwen_cli.settings.prices import shown_cost

    assert [shown_cost(cost, "USD") for cost in (1234.5, 0.00001, 0.0, None)] == [
        "≈ 1,234.5000 USD",
        "≈ <0.0001 USD",
        "≈ 0.0000 USD",
        "no price",
    ]
    assert shown_cost(0.5, None) == "≈ 0.5000"


def test_e2e_config_show_lists_the_prices_it_read(qwen, qwen_env: dict[str, str]) -> None:
    config_file(qwen_env, PRICES_YAML)
    shown = qwen("config", "show")
    assert shown.returncode == 0 and "qwen-plus (USD per 1M tokens)" in shown.stdout
    document = json.loads(qwen("config", "show", "--json").stdout)
    assert document["prices"]["models"] == {"qwen-plus": {"input": 0.4, "output": 1.2, "cached": 0.08}}
