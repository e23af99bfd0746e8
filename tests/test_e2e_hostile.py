"""Hostile input that is not a server's reply (those are rows of test_fault_matrix.py): ids that would leave
their endpoint, files and stdin without end, YAML alias bombs, and numbers JSON cannot carry. The real `qwen`
against the emulator on 127.0.0.1, which must receive nothing when qwen refuses.
"""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import pytest

from conftest import Result, assert_no_secret, qwen_executable
from qwen_cli.emulator import Emulator

MEMORY_CAP = 1024 * 1024 * 1024  # address space for qwen: reading /dev/zero whole fails the test, not the machine
ID_RULE = (
    "an id is letters, digits, '_' and '-', starting with a letter or digit, at most 128 characters "
    "(like resp_4ca7fa5e-6ff5-9787-bc18-af6ca5eff36c)"
)


@pytest.fixture
def bounded_qwen(qwen_env: dict[str, str]):
    """`qwen ARGS...` with its address space capped and a bounded wait, for inputs that would run away."""

    def run(*args: str, input: bytes | None = None, stdin: object = subprocess.DEVNULL, cwd: Path | None = None) -> Result:
        completed = subprocess.run(
            [qwen_executable(), *args], input=input, stdin=None if input is not None else stdin, capture_output=True,
            env=qwen_env, timeout=60, cwd=cwd, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP)),
        )
        result = Result(completed.returncode, completed.stdout.decode("utf-8"), completed.stderr.decode("utf-8"))
        assert_no_secret(result)
        return result

    return run


# --- ids in URL paths -----------------------------------------------------------------------------------------------

ID_COMMANDS = [
    ["response", "get"], ["response", "delete"], ["response", "items"], ["conversation", "items"], ["conversation", "delete"],
]
BAD_IDS = [".", "..", "../..", "resp_1/../../x", "a/b", "resp_1?limit=100", "resp_1#x", "%2e%2e", "resp 1", "", "-rf", "r" * 129]


@pytest.mark.parametrize("command", ID_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_id_that_could_leave_its_endpoint_is_refused_before_anything_is_sent(qwen, emulator: Emulator, command: list[str], bad: str) -> None:
    result = qwen(*command, "--", bad)
    shown = bad if len(bad) <= 60 else bad[:59] + "…"
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"qwen: error: {json.dumps(shown, ensure_ascii=False)} is not an id: {ID_RULE}\n"
    assert emulator.requests == []


def test_an_id_is_refused_in_json_mode_too(qwen, emulator: Emulator) -> None:
    result = qwen("response", "delete", "..", "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["message"] == f'".." is not an id: {ID_RULE}'
    assert emulator.requests == []


@pytest.mark.parametrize("good", ["resp_4ca7fa5e-6ff5-9787-bc18-af6ca5eff36c", "c9f9c06b-032d-4525-a422-ac8ab5eccxxx", "conv_123"])
def test_ids_the_api_gives_reach_their_endpoint(qwen, emulator: Emulator, good: str) -> None:
    result = qwen("response", "delete", good)
    assert result.returncode == 1  # the emulator knows no such response: the request was sent, to its endpoint
    assert [(entry["method"], entry["path"]) for entry in emulator.requests] == [("DELETE", f"/compatible-mode/v1/responses/{good}")]


@pytest.mark.parametrize("flag", ["--previous", "--conversation"])
def test_previous_and_conversation_ids_travel_in_the_body_not_the_path(qwen, flag: str) -> None:
    result = qwen("ask", "--dry-run", "--no-stdin", flag, "../../x?y=1#z", "hi")
    request = json.loads(result.stdout)
    assert result.returncode == 0
    assert request["url"].endswith("/compatible-mode/v1/responses")
    assert "../../x?y=1#z" in request["body"].values()
