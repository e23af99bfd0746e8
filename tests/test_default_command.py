"""What a line that starts with no command means (`default_command`), and near misses by spelling (`spelling`):
decided in-process from the generated table, as `launch` decides before typer loads."""

from __future__ import annotations

import pytest

from qwen_cli.cli.default_command import routed
from qwen_cli.cli.spelling import closest, closest_option, distance
from qwen_cli.errors import UsageError


@pytest.mark.parametrize(
    ("word", "name", "edits"),
    [("histroy", "history", 1), ("stram", "stream", 1), ("aks", "ask", 1), ("dream", "stream", 2), ("", "ask", 3)],
)
def test_distance_counts_a_swap_of_neighbours_as_one_edit(word: str, name: str, edits: int) -> None:
    assert distance(word, name) == edits


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("histroy", "history"),
        ("Stram", "stream"),
        ("emulater", "emulator"),
        ("presents", "presets"),
        ("aks", "ask"),
        ("dream", None),  # two edits from a six-letter name is another word
        ("as", None),  # two letters are too few to call a slip
        ("configure", None),
        ("why", None),
    ],
)
def test_closest_command(word: str, expected: str | None) -> None:
    names = ["ask", "stream", "continue", "emulator", "history", "response", "conversation", "tools", "presets"]
    assert closest(word, names) == expected


def test_closest_option_compares_without_dashes() -> None:
    options = ["--model", "--verbose", "--web", "-m", "--no-history", "--no-store"]
    assert closest_option("--modle", options) == "--model"
    assert closest_option("--no-histroy", options) == "--no-history"
    assert closest_option("--bogus", options) is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], []),
        (["history", "list"], ["history", "list"]),
        (["--version"], ["--version"]),
        (["--install-completion"], ["--install-completion"]),
        (["why", "is", "the", "sky", "blue"], ["ask", "why", "is", "the", "sky", "blue"]),
        (["why is the sky blue"], ["ask", "why is the sky blue"]),
        (["-m", "qwen-max", "hi"], ["ask", "-m", "qwen-max", "hi"]),
        (["--model=qwen-max", "hi"], ["ask", "--model=qwen-max", "hi"]),
        (["-vc", "go on"], ["ask", "-vc", "go on"]),
        (["--no-store", "hi"], ["ask", "--no-store", "hi"]),
        (["--bogus", "hi"], ["--bogus", "hi"]),  # the Typer app says what is wrong
        (["help"], ["--help"]),
        (["help", "history", "list"], ["history", "list", "--help"]),
        (["help", "me", "write"], ["ask", "help", "me", "write"]),
        (["histroy", "of", "rome"], ["ask", "histroy", "of", "rome"]),
        (["presents", "for", "my", "mother"], ["ask", "presents", "for", "my", "mother"]),
        (["tool", "for", "cutting", "glass"], ["ask", "tool", "for", "cutting", "glass"]),
        (["stram?"], ["ask", "stram?"]),
        (["2+2"], ["ask", "2+2"]),
        (["-"], ["ask", "-"]),
        (["show", "me", "a", "poem"], ["ask", "show", "me", "a", "poem"]),
        (["stram", "tell", "me", "a", "story"], ["ask", "stram", "tell", "me", "a", "story"]),
        (["steam", "deck", "review"], ["ask", "steam", "deck", "review"]),
        (["task", "list", "for", "today"], ["ask", "task", "list", "for", "today"]),
    ],
)
def test_routed(args: list[str], expected: list[str]) -> None:
    assert routed(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["histroy"],
        ["histroy", "list"],
        ["histroy", "lst"],
        ["hisotry", "-n", "3"],
        ["stram"],
        ["emulater", "--port", "8765"],
        ["TOOLS"],
        ["list"],
        ["trust"],
    ],
)
def test_a_slip_is_refused(args: list[str]) -> None:
    with pytest.raises(UsageError, match="is not a command; did you mean"):
        routed(args)


def test_the_refusal_names_the_program_as_called() -> None:
    with pytest.raises(UsageError) as caught:
        routed(["confg"], "qwen-cli")
    assert caught.value.message == (
        "'confg' is not a command; did you mean 'qwen-cli config'? (to ask it as a prompt: qwen-cli ask confg)"
    )
