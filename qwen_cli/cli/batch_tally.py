"""What a batch did, counted as its results arrive, and the summary line both engines end with; part of the cli
layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qwen_cli.settings.prices import NO_PRICES, Prices, estimate, shown_cost


@dataclass
class Tally:
    """What the run did, for the summary line."""

    prices: Prices = NO_PRICES  # the config file's, for an estimate of the cost
    batch: bool = False  # billed by the provider's Batch API, at its discount
    counts: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    changed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    unpriced: set[str] = field(default_factory=set)  # models that used tokens but have no price
    first_failure: str | None = None

    def add(self, result: dict[str, Any], model: str | None = None) -> None:
        self.counts[result["status"]] = self.counts.get(result["status"], 0) + 1
        usage = result.get("usage") or {}
        self.input_tokens += int(usage.get("input_tokens") or 0)
        self.output_tokens += int(usage.get("output_tokens") or 0)
        if usage and self.prices.models:
            cost = estimate(usage, model, self.prices, self.batch)
            if cost is None:
                self.unpriced.add(model or "an unknown model")
            else:
                self.cost += cost
        if result["status"] == "failed" and self.first_failure is None:
            self.first_failure = f"item {result['id']}: {(result.get('error') or {}).get('message', 'failed')}"

    def failure_example(self) -> str:
        """`item 7: <why>`, or `e.g. item 7: <why>` when more than one failed."""
        return ("e.g. " if self.counts.get("failed", 0) > 1 else "") + str(self.first_failure)

    @property
    def done(self) -> int:
        return sum(self.counts.values())


def summary(tally: Tally, total: int, elapsed: float | None, out: str | None) -> str:
    parts = [
        f"{tally.counts.get(status, 0)} {status.replace('_', ' ')}"
        for status in ("completed", "incomplete", "function_calls", "failed")
        if tally.counts.get(status) or status in ("completed", "failed")
    ]
    if tally.skipped:
        parts.append(f"{tally.skipped} already done")
    tokens = f"{tally.input_tokens:,} in, {tally.output_tokens:,} out"
    where = f"; results in {out}" if out else ""
    took = f"; {elapsed:.1f} s" if elapsed is not None else ""
    return f"batch: {total} item{'' if total == 1 else 's'}: {', '.join(parts)}; tokens {tokens}{cost_of(tally)}{took}{where}"


def cost_of(tally: Tally) -> str:
    """`; cost ≈ 0.0123 USD` when the config file gives prices (`(batch price)` for the provider's batch)."""
    if not tally.prices.models:
        return ""
    if tally.unpriced:
        return f"; cost unknown (no price for {', '.join(sorted(tally.unpriced))})"
    kind = " at the batch price" if tally.batch else ""
    return f"; cost {shown_cost(tally.cost, tally.prices.currency)}{kind}"
