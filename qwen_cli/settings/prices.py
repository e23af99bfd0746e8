"""Model prices from the config file, and what a number of tokens costs at them: an estimate, never a bill.

Prices are in the config file's own currency per million tokens (1M), as the provider's price lists give them:

    prices:
      currency: USD            # a label only; nothing is converted
      qwen-plus: {input: 0.4, output: 1.2, cached: 0.08}

`cached` is the price of input tokens read from the context cache; when it is left out they cost the input price
(the estimate then errs high, not low). Reasoning tokens are output tokens and cost the output price. The
provider's Batch API bills input and output at half the realtime price and has no context cache, so a batch
result's cached tokens, if any, cost the (halved) input price. Pure: no file, no I/O.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qwen_cli.errors import UsageError

PER_TOKENS = 1_000_000  # prices are per million tokens
BATCH_DISCOUNT = 0.5  # the Batch API bills input and output tokens at 50% of the realtime price
CURRENCY_KEY = "currency"
PRICE_KEYS = ("input", "output", "cached")
REQUIRED_KEYS = ("input", "output")
MAX_CURRENCY_LENGTH = 16  # a label such as USD, CNY or "US$"; longer is likely a mistake


@dataclass(frozen=True)
class Price:
    """One model's prices per million tokens; `cached` None: cached input costs the input price."""

    input: float
    output: float
    cached: float | None = None


@dataclass(frozen=True)
class Prices:
    """Every model's price the config file gives, and the label of their currency (None: not given)."""

    models: Mapping[str, Price] = field(default_factory=dict)
    currency: str | None = None

    def of(self, model: str | None) -> Price | None:
        return self.models.get(model) if model is not None else None


NO_PRICES = Prices()


def estimate(usage: Mapping[str, Any], model: str | None, prices: Prices, batch: bool = False) -> float | None:
    """What `usage` (input_tokens, output_tokens and cached_tokens, as a result line or a history total holds
    them) costs for `model` at `prices`, in their currency; None when the model has no price. `batch`: billed
    by the Batch API, at half price and without a cache discount."""
    price = prices.of(model)
    if price is None:
        return None
    input_tokens, output_tokens = count(usage, "input_tokens"), count(usage, "output_tokens")
    cached = min(count(usage, "cached_tokens"), input_tokens)  # cached tokens are part of the input tokens
    if batch:
        return (input_tokens * price.input + output_tokens * price.output) * BATCH_DISCOUNT / PER_TOKENS
    cached_price = price.input if price.cached is None else price.cached
    fresh = input_tokens - cached
    return (fresh * price.input + cached * cached_price + output_tokens * price.output) / PER_TOKENS


def count(usage: Mapping[str, Any], key: str) -> int:
    """A token count, 0 when absent or not a whole number of 0 or more (a hand-edited history may hold anything)."""
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def parse_prices(raw: Any, where: str) -> Prices:
    """The `prices:` mapping of a config file, checked: each model's prices are numbers of 0 or more, finite, under
    the keys input, output (both needed) and cached; anything else is an error naming `where` (file:line) and
    the key."""
    if not isinstance(raw, Mapping):
        raise UsageError(f"{where}: 'prices' must be a mapping of model names to prices, not {type(raw).__name__}")
    currency: str | None = None
    models: dict[str, Price] = {}
    for name, value in raw.items():
        if name == CURRENCY_KEY:
            currency = parse_currency(value, where)
        elif not isinstance(name, str) or not name.strip():
            raise UsageError(f"{where}: prices: a model name must be text, not {name!r}")
        else:
            models[name] = parse_price(name, value, where)
    return Prices(models, currency)


def parse_currency(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CURRENCY_LENGTH:
        raise UsageError(
            f"{where}: prices: 'currency' must be a short label such as USD or CNY (at most {MAX_CURRENCY_LENGTH}"
            f" characters), not {value!r}"
        )
    return value.strip()


def parse_price(model: str, value: Any, where: str) -> Price:
    if not isinstance(value, Mapping):
        close = difflib.get_close_matches(model, [CURRENCY_KEY], n=1)
        hint = "; did you mean 'currency'?" if close else ""
        raise UsageError(
            f"{where}: prices: '{model}' must be a mapping such as {{input: 0.4, output: 1.2, cached: 0.08}}"
            f" (per 1M tokens), not {type(value).__name__}{hint}"
        )
    for key in value:
        if key not in PRICE_KEYS:
            close = difflib.get_close_matches(str(key), PRICE_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(PRICE_KEYS)}"
            raise UsageError(f"{where}: prices: '{model}': unknown key '{key}'; {hint}")
    missing = [key for key in REQUIRED_KEYS if key not in value]
    if missing:
        raise UsageError(f"{where}: prices: '{model}' needs {' and '.join(missing)} (per 1M tokens)")
    numbers = {key: parse_number(model, key, value[key], where) for key in value}
    return Price(numbers["input"], numbers["output"], numbers.get("cached"))


def parse_number(model: str, key: str, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise UsageError(
            f"{where}: prices: '{model}': '{key}' must be a number of 0 or more (per 1M tokens), not {value!r}"
        )
    return float(value)


def shown_cost(cost: float | None, currency: str | None) -> str:
    """An estimate for a person, as a summary line ends: `≈ 0.0123 USD`, `≈ <0.0001`; `no price` when unknown."""
    if cost is None:
        return "no price"
    amount = "<0.0001" if 0 < cost < 0.00005 else f"{cost:,.4f}"
    return f"≈ {amount} {currency}" if currency else f"≈ {amount}"
