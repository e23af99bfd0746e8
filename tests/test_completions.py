"""Shell completion end to end: the installed scripts' requests sent to the real `qwen` process, answered in each
shell's format with commands, options and values found offline; the shipped scripts and table kept up to date."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import qwen_executable

from qwen_cli import history
from qwen_cli.api.request import EFFORTS
from qwen_cli.cli import completion
from qwen_cli.dev import generate
from qwen_cli.models import RESPONSES_MODELS as MODELS
from qwen_cli.settings import config
from qwen_cli.tools.catalogue import BUILTINS

CHECKOUT = Path(__file__).parent.parent
OUTPUT_HELP = "auto (pretty on a terminal, else text), pretty, text, json or jsonl."
REGENERATE = "run `.venv/bin/python -m qwen_cli.dev.generate` and commit the result"


def request_env(shell: str, line: str, action: str = "get-args") -> dict[str, str]:
    """The variables typer's script for `shell` sets when the user presses Tab after `line`."""
    if shell == "bash":
        return {"_QWEN_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(line.split(" ")) - 1)}
    env = {"_QWEN_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
    return {**env, "_TYPER_COMPLETE_FISH_ACTION": action} if shell == "fish" else env


@pytest.fixture
def tab(qwen_env: dict[str, str], tmp_path: Path):
    """Press Tab after `line` in `shell`: the real qwen process answers, run from a project directory."""
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)

    def press(line: str, shell: str = "bash", action: str = "get-args", **env: str) -> subprocess.CompletedProcess[str]:
        full_env = {**qwen_env, **request_env(shell, line, action), **env}
        return subprocess.run(
            [qwen_executable()], env=full_env, cwd=project, capture_output=True, text=True, timeout=30
        )

    return press


def values(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0 and result.stderr == ""
    return [line.split("\t")[0] for line in result.stdout.splitlines() if line]


# --- generated files and installation --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [generate.TABLE_MODULE, *generate.SCRIPTS.values()], ids=lambda path: path.name)
def test_generated_file_is_up_to_date(path: Path) -> None:
    assert (CHECKOUT / path).read_text(encoding="utf-8") == generate.outputs()[path], (
        f"{path} is out of date: {REGENERATE}"
    )


INSTALLED = {"bash": ".bash_completions/{}.sh", "zsh": ".zfunc/_{}", "fish": ".config/fish/completions/{}.fish"}


@pytest.mark.parametrize(("program", "shell"), sorted(generate.SCRIPTS))
def test_install_completion_installs_the_shipped_script(
    program: str, shell: str, qwen_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**qwen_env, "HOME": str(tmp_path / "home"), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    result = subprocess.run(
        [qwen_executable(program), "--install-completion", shell], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and f"{shell} completion installed" in result.stdout
    installed = (tmp_path / "home" / INSTALLED[shell].format(program)).read_text()
    assert installed.strip() == (CHECKOUT / generate.SCRIPTS[program, shell]).read_text().strip()


def test_bash_completes_through_the_shipped_script(qwen_env: dict[str, str]) -> None:
    script = (
        f"source {CHECKOUT / generate.SCRIPTS['qwen', 'bash']}\n"
        "COMP_WORDS=(qwen stream --output j); COMP_CWORD=3; _qwen_completion qwen; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
        "COMP_WORDS=(qwen hi); COMP_CWORD=1; _qwen_completion qwen; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = {**qwen_env, "PATH": f"{Path(qwen_executable()).parent}{os.pathsep}{qwen_env['PATH']}"}
    result = subprocess.run(["bash", "--norc", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert result.stdout.split() == ["json", "jsonl", "history"]


def test_bash_completes_qwen_cli_through_its_own_script(qwen_env: dict[str, str]) -> None:
    """Where `qwen` is another program (Alibaba's Qwen Code), `qwen-cli` completes with a script of its own."""
    script = (
        f"source {CHECKOUT / generate.SCRIPTS['qwen-cli', 'bash']}\n"
        "complete -p qwen-cli; complete -p qwen 2>/dev/null || echo 'qwen: not registered'\n"
        "COMP_WORDS=(qwen-cli histor); COMP_CWORD=1; _qwen_cli_completion qwen-cli; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
        "COMP_WORDS=(qwen-cli ask --thi); COMP_CWORD=2; _qwen_cli_completion qwen-cli; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = {**qwen_env, "PATH": f"{Path(qwen_executable()).parent}{os.pathsep}{qwen_env['PATH']}"}
    result = subprocess.run(["bash", "--norc", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert result.stdout.splitlines() == [
        "complete -o default -F _qwen_cli_completion qwen-cli",
        "qwen: not registered",
        "history",
        "--think",
    ]


# --- the shells' formats ---------------------------------------------------------------------------------------


def test_bash_gets_one_value_a_line(tab) -> None:
    assert tab("qwen ask --ou").stdout == "--output\n"
    assert tab("qwen ask -o j").stdout == "json\njsonl\n"


def test_zsh_gets_an_arguments_spec_with_escaped_descriptions(tab) -> None:
    assert tab("qwen ask --ou", "zsh").stdout == f"""_arguments '*: :(("--output":"{OUTPUT_HELP}"))'\n"""
    assert tab("qwen continue --tool-o", "zsh").stdout == (
        """_arguments '*: :(("--tool-output":"Answer a function call\\\\: TEXT, or @FILE for a file''s text (repeatable)."))'\n"""
    )
    assert tab("qwen ask -o js", "zsh").stdout == """_arguments '*: :(("json"\n"jsonl"))'\n"""


def test_fish_gets_values_and_descriptions_apart_by_a_tab(tab) -> None:
    assert tab("qwen ask --ou", "fish").stdout == f"--output\t{OUTPUT_HELP}\n"
    assert tab("qwen h", "fish").stdout == "history\tThe local history of responses (SQLite, in...\n"


def test_fish_asks_first_whether_qwen_has_anything_to_offer(tab) -> None:
    offered = tab("qwen ask --ou", "fish", action="is-args")
    nothing = tab("qwen ask hello ", "fish", action="is-args")
    assert (offered.returncode, offered.stdout) == (0, "")
    assert (nothing.returncode, nothing.stdout) == (1, "")  # fish then completes file names


def test_nothing_to_offer_leaves_the_shell_to_complete_files(tab) -> None:
    assert tab("qwen ask hello ").stdout == "\n"
    assert tab("qwen ask hello ", "zsh").stdout == "_files\n"
    assert tab("qwen ask hello ", "fish").stdout == "\n"


# --- the same answers as typer's own completion ----------------------------------------------------------------

STATIC = [
    "qwen ",
    "qwen h",
    "qwen -",
    "qwen --",
    "qwen history ",
    "qwen history --",
    "qwen tools s",
    "qwen ask --ou",
    "qwen ask -o ",
    "qwen ask --output=j",
    "qwen ask --think --th",
    "qwen stream -o json --",
    "qwen ask -v -o json -",
    "qwen ask -vo ",
    "qwen ask -ojs",
    "qwen ask --bogus x --mo",
    "qwen --bogus ask --mo",
    "qwen ask -- --mo",
    "qwen bogus ",
    "qwen response items x --order ",
    "qwen ask --effort=h",
    "qwen emulator --port 8 -",
    "qwen ask 'hello wor",
    "qwen continue x --st",
    "qwen ask --think=1 -",
    "qwen config show -",
]


def typer_answer(shell: str, line: str) -> str:
    """What typer's own completion answers (run in this process; descriptions left unwrapped)."""
    return generate.run_app([], **request_env(shell, line), COLUMNS="1000")


def items_of(shell: str, output: str) -> list[str]:
    # click lists -h and --help in the order of a set, which varies from run to run.
    return (
        sorted(output.removeprefix("_arguments '*: :((").replace("))'\n", "\n").splitlines())
        if shell == "zsh"
        else sorted(output.splitlines())
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("line", STATIC)
def test_static_answers_are_typers(shell: str, line: str) -> None:
    out = io.StringIO()
    assert completion.respond(shell, request_env(shell, line), out) == 0
    assert items_of(shell, out.getvalue()) == items_of(shell, typer_answer(shell, line))


# --- values ----------------------------------------------------------------------------------------------------


def test_output_modes_effort_levels_regions_and_orders(tab) -> None:
    assert values(tab("qwen ask -o ")) == list(config.OUTPUT_MODES)
    assert values(tab("qwen stream --effort ")) == list(EFFORTS)
    assert values(tab("qwen continue last --region ")) == list(config.REGIONS)
    assert values(tab("qwen response items resp_1 --order ")) == ["asc", "desc"]


def test_built_in_tools_with_their_descriptions(tab) -> None:
    assert values(tab("qwen ask --tool ")) == list(BUILTINS)
    assert (
        tab("qwen stream --tool code", "fish").stdout
        == f"code_interpreter\t{BUILTINS['code_interpreter'].description}\n"
    )
    assert values(tab("qwen tools show web_")) == ["web_search", "web_extractor", "web_search_image"]


def test_models_shipped_with_the_package(tab) -> None:
    assert values(tab("qwen ask -m ")) == sorted(MODELS)
    assert values(tab("qwen ask --model=qwen3.8-m")) == ["qwen3.8-max", "qwen3.8-max-0902"]


def test_models_from_the_config_file_and_the_environment_come_first(tab, qwen_env: dict[str, str]) -> None:
    path = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text('region: cn\nmodel: "my-finetune"   # ours\ntimeout: 600\n')
    assert values(tab("qwen ask -m my"))[:1] == ["my-finetune"]
    zsh = tab("qwen ask -m ", "zsh", QWEN_MODEL="qwen3.8-flash").stdout
    assert zsh.startswith(
        """_arguments '*: :(("qwen3.8-flash":"QWEN_MODEL"\n"my-finetune":"config file"\n"deepseek-v4-flash"\n"""
    )
    assert zsh.count('"qwen3.8-flash"') == 1


def test_a_config_model_yaml_would_need_parsing_for_is_skipped(tab, qwen_env: dict[str, str]) -> None:
    path = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("model: |\n  my-finetune\n")
    assert values(tab("qwen ask -m ")) == sorted(MODELS)


def test_presets_of_the_project_and_the_user(tab, qwen_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "project" / ".qwen" / "presets"
    user = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "presets"
    for directory, names in ((project, ["review", "commit"]), (user, ["research", "review"])):
        directory.mkdir(parents=True)
        for name in names:
            (directory / f"{name}.yaml").write_text("description: x\n")
    assert values(tab("qwen ask -p ")) == ["commit", "research", "review"]
    assert values(tab("qwen stream --preset=re")) == ["research", "review"]
    assert values(tab("qwen presets show c")) == ["commit"]
    assert values(tab("qwen tools list -p r")) == ["research", "review"]


def ask(qwen, prompt: str) -> str:
    result = qwen("ask", "-o", "json", prompt)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["id"]


def test_recent_response_ids_newest_first_with_their_prompts(tab, qwen) -> None:
    older, newer = ask(qwen, "what is a monad?"), ask(qwen, "and in   Go?\nbriefly")
    assert values(tab("qwen continue ")) == ["last", newer, older]
    assert tab("qwen history show ", "fish").stdout == (
        f"last\tthe newest response in the local history\n{newer}\tand in Go? briefly\n{older}\twhat is a monad?\n"
    )
    assert f'"{newer}":"and in Go? briefly"' in tab("qwen history thread ", "zsh").stdout
    assert values(tab(f"qwen continue {older[:-4]}")) == [older]


def test_without_a_history_only_last_is_offered_and_no_file_is_created(tab, qwen_env: dict[str, str]) -> None:
    assert values(tab("qwen continue ")) == ["last"]
    assert not Path(history.history_path(qwen_env)).exists()


@pytest.mark.parametrize(
    "env", [{"XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c", "HOME": "/h"}, {"HOME": "/h"}, {"HOME": ""}]
)
def test_completion_finds_the_files_where_history_and_config_keep_them(env: dict[str, str]) -> None:
    assert completion.history_file(env) == str(history.history_path(env))
    assert completion.config_file(env) == str(config.config_path(env))
