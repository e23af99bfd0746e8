"""Near misses: which known name (a command, an option) a mistyped word was meant to be. Standard library only:
the fast entry asks it before typer loads, and the usage errors of the Typer app ask it too."""

from __future__ import annotations

from collections.abc import Iterable


def distance(word: str, name: str) -> int:
    """Edits from `word` to `name`: a letter added, dropped, changed, or two neighbours swapped (`histroy`)."""
    previous2: list[int] = []
    previous = list(range(len(name) + 1))
    for i, char in enumerate(word, start=1):
        current = [i]
        for j, target in enumerate(name, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != target))
            if i > 1 and j > 1 and char == name[j - 2] and word[i - 2] == target:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def allowed_edits(name: str) -> int:
    """One slip in a short name, two in a long one: more would make ordinary words (`dream`, `as`) look like typos."""
    return 1 if len(name) <= 6 else 2


def is_near(word: str, name: str) -> bool:
    word, name = word.lower(), name.lower()
    return len(word) >= 3 and distance(word, name) <= allowed_edits(name)


def closest(word: str, names: Iterable[str]) -> str | None:
    """The name `word` is nearest to, when it is near enough to be a slip of the fingers; else None."""
    near = [(distance(word.lower(), name.lower()), name) for name in names if is_near(word, name)]
    return min(near)[1] if near else None


def closest_option(spelling: str, options: Iterable[str]) -> str | None:
    """The option a mistyped `--spelling` was meant to be, compared without the dashes (`--modle`: `--model`)."""
    by_word = {option.lstrip("-"): option for option in options if option.startswith("--")}
    found = closest(spelling.lstrip("-"), by_word)
    return by_word[found] if found is not None else None
