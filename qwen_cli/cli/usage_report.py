"""`qwen history usage`: the history's token usage summed by model, day or preset, with the cost the config
file's prices put on it, as a table for a person, tab-separated text for a pipe, or one JSON document.

Reads the history a row at a time (`History.usage_records`), so a history of any size sums in little memory. A
cost is an estimate: a row whose responses include a model without a price shows none ("-", null in JSON)
rather than a sum that quietly leaves part out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from qwen_cli.api.responses import Usage, usage_of
from qwen_cli.history import BATCH, UsageRecord
from qwen_cli.settings.prices import Prices, count, estimate, shown_cost

GROUPINGS = ("model", "day", "preset")
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens", "total_tokens")
UNKNOWN_MODEL = "(unknown)"  # a response recorded without a model name
NO_PRESET = "(none)"
COST_DIGITS = 9  # a JSON cost is rounded here: float sums would otherwise end in ...0000000004


@dataclass
class Tally:
    """The sums of one row, or of all of them."""

    responses: int = 0
    batch_responses: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    unpriced: bool = False  # a response in it used tokens of a model that has no price: its cost is unknown

    def add(self, usage: Usage, batch: bool, cost: float | None) -> None:
        self.responses += 1
        self.batch_responses += batch
        for name in TOKEN_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(usage, name))
        if cost is not None:
            self.cost += cost
        elif usage.input_tokens or usage.output_tokens:  # a response that used nothing costs nothing, priced or not
            self.unpriced = True

    def known_cost(self) -> float | None:
        return None if self.unpriced else self.cost

    def to_json(self) -> dict[str, Any]:
        cost = self.known_cost()
        return {
            "responses": self.responses,
            "batch_responses": self.batch_responses,
            **{name: getattr(self, name) for name in TOKEN_FIELDS},
            "cost": None if cost is None else round(cost, COST_DIGITS),
        }


@dataclass
class Report:
    by: str
    since: float | None
    prices: Prices
    rows: dict[str, Tally] = field(default_factory=dict)
    totals: Tally = field(default_factory=Tally)
    unpriced_models: set[str] = field(default_factory=set)

    def is_empty(self) -> bool:
        return self.totals.responses == 0


def summarise(records: Iterable[UsageRecord], by: str, prices: Prices, since: float | None = None) -> Report:
    """Sum `records` into one row per model, local day or preset, and the totals."""
    report = Report(by, since, prices)
    for record in records:
        usage = tokens_of(record.usage)
        batch = record.billing == BATCH
        cost = estimate(asdict(usage), record.model, prices, batch=batch)
        if cost is None and (usage.input_tokens or usage.output_tokens):
            report.unpriced_models.add(record.model or UNKNOWN_MODEL)
        report.rows.setdefault(group_key(record, by), Tally()).add(usage, batch, cost)
        report.totals.add(usage, batch, cost)
    return report


def tokens_of(recorded: dict[str, Any] | None) -> Usage:
    """The counts of a recorded usage object in any of the shapes an entry may hold: the Responses API's (with
    its details, or DashScope's x_details), a batch result line's flat one (cached_tokens, reasoning_tokens at the
    top) or a Chat Completions one (prompt_tokens, completion_tokens)."""
    if not recorded:
        return Usage()
    if "input_tokens" not in recorded and "prompt_tokens" in recorded:
        recorded = {
            "input_tokens": recorded.get("prompt_tokens"),
            "output_tokens": recorded.get("completion_tokens"),
            "total_tokens": recorded.get("total_tokens"),
            "input_tokens_details": recorded.get("prompt_tokens_details"),
            "output_tokens_details": recorded.get("completion_tokens_details"),
        }
    usage = usage_of({"usage": recorded}) or Usage()
    return replace(
        usage,
        cached_tokens=usage.cached_tokens or count(recorded, "cached_tokens"),
        reasoning_tokens=usage.reasoning_tokens or count(recorded, "reasoning_tokens"),
    )


def group_key(record: UsageRecord, by: str) -> str:
    if by == "day":
        return time.strftime("%Y-%m-%d", time.localtime(record.created_at))  # the local day, as `history list` shows
    if by == "preset":
        return record.preset or NO_PRESET
    return record.model or UNKNOWN_MODEL


def ordered_rows(report: Report) -> list[tuple[str, Tally]]:
    """Days in time order; models and presets by name."""
    return sorted(report.rows.items())


# --- JSON ------------------------------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    """The stable document of `--json`: every key is always there; a cost is null when it is unknown."""
    return {
        "by": report.by,
        "since": None if report.since is None else datetime.fromtimestamp(report.since).astimezone().isoformat(),
        "currency": report.prices.currency,
        "prices_known": not report.unpriced_models,
        "unpriced_models": sorted(report.unpriced_models),
        "rows": [{"key": key, **tally.to_json()} for key, tally in ordered_rows(report)],
        "totals": report.totals.to_json(),
    }


# --- text ------------------------------------------------------------------------------------------------------


def header(report: Report) -> list[str]:
    cost = f"cost ({report.prices.currency})" if report.prices.currency else "cost"
    return [report.by, "responses", "input", "output", "cached", "reasoning", cost]


def cells(key: str, tally: Tally, for_a_person: bool) -> list[str]:
    numbers = [tally.responses, tally.input_tokens, tally.output_tokens, tally.cached_tokens, tally.reasoning_tokens]
    shown = [f"{number:,}" if for_a_person else str(number) for number in numbers]
    return [key, *shown, cost_text(tally.known_cost(), for_a_person)]


def cost_text(cost: float | None, for_a_person: bool) -> str:
    if cost is None:
        return "-"
    if not for_a_person:
        return f"{cost:.6f}"
    return shown_cost(cost, None).removeprefix("≈ ")  # <0.0001 rather than 0.0000: something was spent


def table_text(report: Report) -> str:
    """For a terminal: columns aligned, numbers right-aligned with thousands separators, a rule above the totals."""
    rows = [header(report), *(cells(key, tally, True) for key, tally in ordered_rows(report))]
    rows.append(cells("total", report.totals, True))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(aligned(row, widths)).rstrip() for row in rows]
    lines.insert(-1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def aligned(row: list[str], widths: list[int]) -> list[str]:
    return [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:]))]


def plain_text(report: Report) -> str:
    """For a pipe: tab-separated, a header line, whole numbers as they are, the totals last (key `total`)."""
    rows = [header(report), *(cells(key, tally, False) for key, tally in ordered_rows(report))]
    rows.append(cells("total", report.totals, False))
    return "\n".join("\t".join(row) for row in rows)


def notes(report: Report, config_file: str) -> list[str]:
    """What the numbers leave out, for stderr: models without a price, and how batch results were priced."""
    said = []
    if report.unpriced_models and not report.prices.models:
        said.append(
            f"note: no prices in the config file ({config_file}), so no cost is estimated; add a prices: mapping"
            " (per 1M tokens), see 'What it cost' in the README"
        )
    elif report.unpriced_models:
        missing = ", ".join(sorted(report.unpriced_models))
        said.append(f"note: no price for {missing} in {config_file} (prices:); a cost that includes it shows as -")
    if report.totals.batch_responses and report.prices.models:
        count = report.totals.batch_responses
        said.append(
            f"note: {count} batch {'result is' if count == 1 else 'results are'} priced at the Batch API's half price"
        )
    return said


def empty_line(report: Report, history_file: str) -> str:
    if report.since is None:
        return f"the local history is empty ({history_file}); every answered request is recorded there"
    since = time.strftime("%Y-%m-%d %H:%M", time.localtime(report.since))
    return f"no responses in the local history since {since} ({history_file})"
