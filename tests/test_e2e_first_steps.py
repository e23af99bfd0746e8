"""First steps, end to end: `qwen "a prompt"` without `ask`, a typo refused before it costs a request, the error
without a key, help that reads like the README, and the same program installed as `qwen-cli`."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from conftest import Result, assert_no_secret, qwen_executable

from qwen_cli.cli._help_texts import HELP
from qwen_cli.emulator import Emulator

GROUPS = ["batch", "history", "response", "conversation", "presets", "config", "tools"]
ENVIRONMENT = ["DASHSCOPE_API_KEY", "QWEN_BASE_URL", "QWEN_MODEL", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "NO_COLOR"]


def created(emulator: Emulator) -> list[dict]:
    return [entry for entry in emulator.requests if entry["method"] == "POST" and entry["path"].endswith("/responses")]


def sent_text(emulator: Emulator) -> str:
    return json.dumps(created(emulator)[-1]["body"]["input"])


# --- a prompt without `ask` ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["why", "is", "the", "sky", "blue"], ["why is the sky blue"]],
    ids=["words", "one quoted sentence"],
)
def test_a_prompt_without_a_command_is_asked(qwen, emulator, args: list[str]) -> None:
    result = qwen(*args)
    assert (result.returncode, result.stdout, result.stderr) == (0, "You said: why is the sky blue\n", "")
    assert created(emulator)[-1]["body"].get("stream") in (None, False)


def test_asks_options_may_come_first(qwen, emulator) -> None:
    result = qwen("-m", "qwen-max", "--json", "hi")
    assert result.returncode == 0 and json.loads(result.stdout)["model"] == "qwen-max"
    assert created(emulator)[-1]["body"]["model"] == "qwen-max"


def test_piped_material_goes_with_a_prompt_without_ask(qwen, emulator) -> None:
    result = qwen("summarise", input="the sea is wide\n")
    assert result.returncode == 0, result.stderr
    assert '<document name=\\"stdin\\">' in sent_text(emulator) and "the sea is wide" in sent_text(emulator)
    assert "summarise" in sent_text(emulator)


def test_a_sentence_that_starts_like_a_command_is_asked(qwen, emulator) -> None:
    result = qwen("histroy", "of", "rome", "in", "a", "line")
    assert (result.returncode, result.stdout) == (0, "You said: histroy of rome in a line\n")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["histroy"],
            "'histroy' is not a command; did you mean 'qwen history'? (to ask it as a prompt: qwen ask histroy)",
        ),
        (["stram"], "'stram' is not a command; did you mean 'qwen stream'? (to ask it as a prompt: qwen ask stram)"),
        (
            ["histroy", "list"],
            "'histroy' is not a command; did you mean 'qwen history'? (to ask it as a prompt: qwen ask histroy ...)",
        ),
        (
            ["stram", "-o", "text"],
            "'stram' is not a command; did you mean 'qwen stream'? (to ask it as a prompt: qwen ask stram ...)",
        ),
        (
            ["Conversaton", "--help"],
            "'Conversaton' is not a command; did you mean 'qwen conversation'? (to ask it as a prompt: qwen ask Conversaton ...)",
        ),
        (
            ["list"],
            "'list' is not a command; did you mean 'qwen batch list', 'qwen history list', 'qwen tools list' or"
            " 'qwen presets list'?"
            " (to ask it as a prompt: qwen ask list)",
        ),
    ],
    ids=["histroy", "stram", "histroy list", "stram and an option", "a group's typo with an option", "a sub-command"],
)
def test_a_near_miss_of_a_command_is_refused_and_nothing_is_sent(qwen, emulator, args: list[str], line: str) -> None:
    result = qwen(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"qwen: error: {line}\n")
    assert created(emulator) == []


def test_a_near_miss_of_a_request_command_followed_by_words_is_a_sentence_and_is_asked(qwen, emulator) -> None:
    result = qwen("steam", "deck", "review")
    assert (result.returncode, result.stdout) == (0, "You said: steam deck review\n")


def test_the_refusal_says_how_to_ask_it_anyway(qwen, emulator) -> None:
    result = qwen("ask", "stram")
    assert (result.returncode, result.stdout) == (0, "You said: stram\n")


def test_help_as_a_word_shows_help(qwen, emulator) -> None:
    assert qwen("help").stdout == qwen("--help").stdout == HELP[()]
    assert qwen("help", "history", "list").stdout == HELP[("history", "list")]
    assert created(emulator) == []


# --- without a key ---------------------------------------------------------------------------------------------

NO_KEY = (
    "qwen: error: DASHSCOPE_API_KEY is not set; create a key in the Model Studio console"
    " (https://modelstudio.console.alibabacloud.com/ for --region intl, the default, and us;"
    " https://bailian.console.aliyun.com/ for --region cn; a key works only in its own region),"
    " then: export DASHSCOPE_API_KEY=sk-...; to try qwen without a key: qwen emulator, or --dry-run to print the"
    " request instead of sending it\n"
)


@pytest.mark.parametrize(
    "args",
    [["ask", "hi"], ["why", "is", "the", "sky", "blue"], ["stream", "hi"], ["response", "get", "resp_1"]],
    ids=["ask", "a prompt alone", "stream", "response get"],
)
def test_without_a_key_one_line_says_where_keys_are_made_and_how_to_try_without(
    qwen, emulator, args: list[str]
) -> None:
    result = qwen(*args, env={"DASHSCOPE_API_KEY": ""})
    assert (result.returncode, result.stdout, result.stderr) == (3, "", NO_KEY)
    assert emulator.requests == []


def test_the_dry_run_it_suggests_needs_no_key(qwen, emulator) -> None:
    result = qwen("--dry-run", "hi", env={"DASHSCOPE_API_KEY": ""})
    assert result.returncode == 0 and json.loads(result.stdout)["body"]["input"] == "hi"


@pytest.mark.parametrize("path", [(), ("ask",)], ids=["qwen", "ask"])
def test_help_lists_the_environment_variables(qwen, path: tuple[str, ...]) -> None:
    text = qwen(*path, "--help").stdout
    environment = text[text.index("Environment:") :]
    assert [name for name in ENVIRONMENT if f"    {name}  " in environment] == ENVIRONMENT


# --- help that reads like the README ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [(), *((group,) for group in GROUPS)], ids=lambda path: " ".join(path) or "qwen")
def test_top_and_group_help_show_examples_and_cut_no_description(qwen, path: tuple[str, ...]) -> None:
    result = qwen(*path, "--help", env={"COLUMNS": "100"})
    listing = result.stdout[result.stdout.index("\nCommands:\n") :].split("\n\n")[0].splitlines()[1:]
    assert result.returncode == 0 and "\n  Examples:\n" in result.stdout
    assert listing and [line for line in listing if line.endswith("...")] == []


def test_usage_lines_name_arguments_and_numbers_as_the_readme_does(qwen) -> None:
    assert qwen("history", "show", "--help").stdout.startswith("Usage: qwen history show [OPTIONS] ID\n")
    assert qwen("continue", "--help").stdout.startswith("Usage: qwen continue [OPTIONS] ID [PROMPT]\n")
    assert "  -n, --limit N " in qwen("history", "list", "--help").stdout
    assert "  --limit N " in qwen("response", "items", "--help").stdout
    assert (
        "  -p, --port N " in qwen("emulator", "--help").stdout and "--host ADDRESS" in qwen("emulator", "--help").stdout
    )
    for path, text in HELP.items():
        assert "{" not in text.splitlines()[0] and not re.search(r"<[a-z| ]+>", text) and "RANGE" not in text, path


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["ask", "--modle", "x", "hi"], "no such option: --modle; did you mean --model? (see 'qwen ask --help')"),
        (["ask", "--bogus", "hi"], "no such option: --bogus (see 'qwen ask --help')"),
        (["ask", "--stram", "hi"], "no such option: --stram (see 'qwen ask --help')"),
        (
            ["history", "list", "--lmit", "3"],
            "no such option: --lmit; did you mean --limit? (see 'qwen history list --help')",
        ),
        (["--verison"], "no such option: --verison; did you mean --version? (see 'qwen --help')"),
        (["--temprature", "1", "hi"], "no such option: --temprature; did you mean --temperature? (see 'qwen --help')"),
        (["history", "lst"], "no such command 'lst'; did you mean 'list'? (see 'qwen history --help')"),
        (["history", "bogus"], "no such command 'bogus' (see 'qwen history --help')"),
    ],
    ids=[
        "near",
        "nothing near",
        "nothing near either",
        "a sub-command's",
        "top level",
        "ask's, at the top level",
        "a sub-command",
        "no sub-command near",
    ],
)
def test_a_mistyped_option_or_sub_command_suggests_its_nearest_neighbour_or_nothing(
    qwen, emulator, args: list[str], line: str
) -> None:
    result = qwen(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"qwen: error: {line}\n")
    assert created(emulator) == []


# --- qwen-cli, where `qwen` is taken ---------------------------------------------------------------------------


@pytest.fixture
def qwen_cli(qwen_env: dict[str, str]):
    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        completed = subprocess.run(
            [qwen_executable("qwen-cli"), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env={**qwen_env, **(env or {})},
            timeout=30,
        )
        result = Result(completed.returncode, completed.stdout, completed.stderr)
        assert_no_secret(result)
        return result

    return run


def test_qwen_cli_asks_against_the_emulator(qwen_cli, emulator) -> None:
    result = qwen_cli("ask", "why", "is", "the", "sky", "blue")
    assert (result.returncode, result.stdout, result.stderr) == (0, "You said: why is the sky blue\n", "")
    assert qwen_cli("hello", "there").stdout == "You said: hello there\n"
    assert len(created(emulator)) == 2


@pytest.mark.parametrize(
    ("path", "usage"),
    [((), "Usage: qwen-cli [OPTIONS] COMMAND [ARGS]..."), (("ask",), "Usage: qwen-cli ask [OPTIONS] [PROMPT]")]
    + [((group,), f"Usage: qwen-cli {group} [OPTIONS] COMMAND [ARGS]...") for group in GROUPS],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_qwen_cli_help_names_qwen_cli(qwen_cli, qwen, path: tuple[str, ...], usage: str) -> None:
    """The stored texts name `qwen`; `qwen-cli` renders its own, examples included, to paste where `qwen` is taken."""
    text = qwen_cli(*path, "--help", env={"COLUMNS": "80"}).stdout
    assert text.splitlines()[0] == usage
    examples = text[text.index("  Examples:\n") :].split("\n\n")[0]
    assert re.findall(r"(?<![\w./-])qwen ", examples) == [] and "\n    qwen-cli " in examples
    stored = qwen(*path, "--help", env={"COLUMNS": "80"}).stdout
    assert len(text.splitlines()) == len(stored.splitlines())


def test_qwen_cli_names_itself_in_its_errors(qwen_cli, emulator) -> None:
    assert qwen_cli("histroy").stderr == (
        "qwen: error: 'histroy' is not a command; did you mean 'qwen-cli history'?"
        " (to ask it as a prompt: qwen-cli ask histroy)\n"
    )
    assert qwen_cli("ask", "--bogus").stderr == "qwen: error: no such option: --bogus (see 'qwen-cli ask --help')\n"
    assert created(emulator) == []
