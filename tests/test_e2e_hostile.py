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
from fault_servers import completed, json_reply, scripted_server, sse, stream_reply, text_events

from qwen_cli.bounds import MAX_JSON_DEPTH
from qwen_cli.emulator import Emulator

MEMORY_CAP = 1024 * 1024 * 1024  # address space for qwen: reading /dev/zero whole fails the test, not the machine
ID_RULE = (
    "an id is letters, digits, '_' and '-', starting with a letter or digit, at most 128 characters "
    "(like resp_4ca7fa5e-6ff5-9787-bc18-af6ca5eff36c)"
)


@pytest.fixture
def bounded_qwen(qwen_env: dict[str, str]):
    """`qwen ARGS...` with its address space capped and a bounded wait, for inputs that would run away."""

    def run(
        *args: str, input: bytes | None = None, stdin: object = subprocess.DEVNULL, cwd: Path | None = None
    ) -> Result:
        completed = subprocess.run(
            [qwen_executable(), *args],
            input=input,
            stdin=None if input is not None else stdin,
            capture_output=True,
            env=qwen_env,
            timeout=60,
            cwd=cwd,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP)),
        )
        result = Result(completed.returncode, completed.stdout.decode("utf-8"), completed.stderr.decode("utf-8"))
        assert_no_secret(result)
        return result

    return run


# --- JSON nested as deep as qwen reads -----------------------------------------------------------------------------


def test_a_reply_nested_to_the_limit_is_read_and_printed_in_every_mode(qwen) -> None:
    """256 levels is what qwen promises to read; everything after (rendering, json and jsonl output, the history)
    must cope with it too, not only the parser."""
    response = completed("Hello")["response"]
    depth = MAX_JSON_DEPTH - 2  # with the response and, in the stream, its event around it: 256 levels in the event
    response["x"] = json.loads("[" * depth + "]" * depth)
    events = [sse(event) for event in text_events("Hello")] + [
        sse({"type": "response.completed", "response": response})
    ]
    with (
        scripted_server(json_reply(json.dumps(response).encode())) as replies,
        scripted_server(stream_reply(events)) as streams,
    ):
        for command, server in (("ask", replies), ("stream", streams)):
            for mode in ("text", "json", "jsonl", "pretty"):
                result = qwen(command, "-o", mode, "hi", env={"QWEN_BASE_URL": server.base_url})
                assert (result.returncode, "Hello" in result.stdout) == (0, True), (command, mode, result.stderr)
                if mode == "json":
                    assert json.loads(result.stdout)["x"] == response["x"]


# --- ids in URL paths -----------------------------------------------------------------------------------------------

ID_COMMANDS = [
    ["response", "get"],
    ["response", "delete"],
    ["response", "items"],
    ["conversation", "items"],
    ["conversation", "delete"],
]
BAD_IDS = [
    ".",
    "..",
    "../..",
    "resp_1/../../x",
    "a/b",
    "resp_1?limit=100",
    "resp_1#x",
    "%2e%2e",
    "resp 1",
    "",
    "-rf",
    "r" * 129,
]


@pytest.mark.parametrize("command", ID_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("bad", BAD_IDS)
def test_an_id_that_could_leave_its_endpoint_is_refused_before_anything_is_sent(
    qwen, emulator: Emulator, command: list[str], bad: str
) -> None:
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


@pytest.mark.parametrize(
    "good", ["resp_4ca7fa5e-6ff5-9787-bc18-af6ca5eff36c", "c9f9c06b-032d-4525-a422-ac8ab5eccxxx", "conv_123"]
)
def test_ids_the_api_gives_reach_their_endpoint(qwen, emulator: Emulator, good: str) -> None:
    result = qwen("response", "delete", good)
    assert result.returncode == 1  # the emulator knows no such response: the request was sent, to its endpoint
    assert [(entry["method"], entry["path"]) for entry in emulator.requests] == [
        ("DELETE", f"/compatible-mode/v1/responses/{good}")
    ]


@pytest.mark.parametrize("flag", ["--previous", "--conversation"])
def test_previous_and_conversation_ids_travel_in_the_body_not_the_path(qwen, flag: str) -> None:
    result = qwen("ask", "--dry-run", "--no-stdin", flag, "../../x?y=1#z", "hi")
    request = json.loads(result.stdout)
    assert result.returncode == 0
    assert request["url"].endswith("/compatible-mode/v1/responses")
    assert "../../x?y=1#z" in request["body"].values()


# --- files and stdin without end ------------------------------------------------------------------------------------

BINARY = "looks like a binary file (it contains NUL bytes); attach text files only"


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "-f", "/dev/zero", "x"],
        ["ask", "-f", "/dev/urandom", "x"],
        ["ask", "--messages", "/dev/zero"],
        ["ask", "--tools-file", "/dev/zero", "x"],
        ["continue", "resp_1", "--tool-output", "call_1=@/dev/zero"],
    ],
    ids=lambda args: " ".join(args[1:]),
)
def test_an_endless_device_as_a_file_is_refused_at_its_first_chunk(
    bounded_qwen, emulator: Emulator, args: list[str]
) -> None:
    result = bounded_qwen(*args)
    name = next(arg for arg in args if "/dev/" in arg).rpartition("@")[2]
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"qwen: error: {name} {BINARY}\n" or (
        name == "/dev/urandom"
        and result.stderr.startswith("qwen: error: /dev/urandom is not valid UTF-8 (bad byte at offset ")
    )
    assert emulator.requests == []


@pytest.mark.parametrize("args", [["x"], [], ["-f", "-", "x"]], ids=["with a prompt", "alone", "-f -"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_stdin_is_refused_at_its_first_chunk(
    bounded_qwen, emulator: Emulator, args: list[str], device: str
) -> None:
    with open(device, "rb") as endless:
        result = bounded_qwen("ask", *args, stdin=endless)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"qwen: error: stdin {BINARY}\n" or (
        device == "/dev/urandom"
        and result.stderr.startswith("qwen: error: stdin is not valid UTF-8 (bad byte at offset ")
    )
    assert emulator.requests == []


def test_an_endless_stream_of_text_on_stdin_stops_at_the_cap(qwen_env: dict[str, str], emulator: Emulator) -> None:
    """`yes | qwen ask x`: text without end is refused once it passes 32 MiB, not read until memory runs out."""
    pipeline = f"yes 'a line of text' | '{qwen_executable()}' ask x"
    completed = subprocess.run(
        ["bash", "-c", pipeline],
        env=qwen_env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP)),
    )
    assert (completed.returncode, completed.stdout) == (2, "")
    assert completed.stderr == (
        "qwen: error: stdin holds more than 32 MiB; qwen reads text files and stdin up to 32 MiB (33,554,432 bytes): "
        "send an excerpt (head, tail, grep)\n"
    )
    assert emulator.requests == []


def test_an_endless_device_as_an_image_is_refused_at_the_image_limit(bounded_qwen, emulator: Emulator) -> None:
    result = bounded_qwen("ask", "--image", "/dev/zero", "x")
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr
        == "qwen: error: /dev/zero holds more than 20 MiB; the API takes images up to 20 MiB (20,971,520 bytes)\n"
    )
    assert emulator.requests == []


def test_a_text_file_at_the_cap_is_sent(bounded_qwen, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes((b"x" * 1023 + b"\n") * (32 * 1024))  # exactly 32 MiB
    result = bounded_qwen("ask", "-f", str(tmp_path / "big.txt"), "--dry-run", "x")
    assert result.returncode == 0
    assert json.loads(result.stdout)["body"]["input"][0]["content"][0]["text"].startswith(
        f'<document name="{tmp_path}/big.txt">'
    )


# --- YAML alias bombs -----------------------------------------------------------------------------------------------


def alias_bomb() -> str:
    """Nine levels of nine aliases ("billion laughs"): a flow sequence of under 300 bytes that expands to 9^9 items."""
    levels = ["&l0 [" + ", ".join(["lol"] * 9) + "]"] + [
        f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)
    ]
    return "[" + ", ".join(levels) + "]"


BOMB_TOOL = f"name: f\n  description: d\n  parameters: {{type: object, properties: {{x: {{enum: {alias_bomb()}}}}}}}\n"
BOMB_FILES = {  # where a bomb hangs a naive reader: walked, checked or dumped as JSON
    "preset.yaml": f"description: looks harmless\ntools:\n  - {BOMB_TOOL.replace(chr(10) + '  ', chr(10) + '    ')}",
    "tools.yaml": f"- {BOMB_TOOL}",
    "messages.yaml": f"- role: user\n  content: hi\n  x: {alias_bomb()}\n",
}
BOMB_RULE = "YAML aliases expand to 490,329,036 more nodes than the file holds, past the limit of 10,000 (a 'billion laughs' bomb?); write the values out instead"


def test_the_bombs_are_small() -> None:
    assert all(len(text) < 1024 for text in BOMB_FILES.values())


@pytest.mark.parametrize(
    ("flag", "file"), [("-p", "preset.yaml"), ("--tools-file", "tools.yaml"), ("--messages", "messages.yaml")]
)
def test_a_yaml_alias_bomb_is_refused_naming_the_file(
    bounded_qwen, emulator: Emulator, tmp_path: Path, flag: str, file: str
) -> None:
    (tmp_path / file).write_text(BOMB_FILES[file], encoding="utf-8")
    result = bounded_qwen("ask", flag, str(tmp_path / file), "hi")
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        f"qwen: error: {tmp_path / file}: {BOMB_RULE}\n",
    )
    assert emulator.requests == []


def test_a_yaml_alias_bomb_in_the_config_file_is_refused_naming_it(
    bounded_qwen, qwen_env: dict[str, str], emulator: Emulator
) -> None:
    config = Path(qwen_env["XDG_CONFIG_HOME"]) / "qwen" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(f"model: qwen-plus\ntimeout: {alias_bomb()}\n", encoding="utf-8")
    result = bounded_qwen("ask", "hi")
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"qwen: error: {config}: {BOMB_RULE}\n")
    assert emulator.requests == []


def test_presets_list_in_a_repository_that_ships_a_bomb_lists_it_as_broken(bounded_qwen, tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    (repository / ".qwen" / "presets").mkdir(parents=True)
    (repository / ".qwen" / "presets" / "bomb.yaml").write_text(BOMB_FILES["preset.yaml"], encoding="utf-8")
    (repository / ".qwen" / "presets" / "fine.yaml").write_text("description: a fine preset\n", encoding="utf-8")
    result = bounded_qwen("presets", "list", cwd=repository)
    bomb = repository / ".qwen" / "presets" / "bomb.yaml"
    trust_note = f"qwen: note: -p refuses this project's presets until you review them and run: qwen presets trust {repository}\n"
    assert (result.returncode, result.stderr) == (0, trust_note)
    assert result.stdout.splitlines()[0].split()[:4] == ["bomb", "project", "(untrusted)", str(bomb)]
    assert result.stdout.splitlines()[0].endswith(f"error: {bomb}: {BOMB_RULE}")
    assert result.stdout.splitlines()[1].split()[:2] == ["fine", "project"]


def test_a_yaml_alias_that_contains_itself_is_refused(bounded_qwen, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").write_text("- role: user\n  content: &a [*a]\n", encoding="utf-8")
    result = bounded_qwen("ask", "--messages", str(tmp_path / "loop.yaml"))
    assert (result.returncode, result.stderr) == (
        2,
        f"qwen: error: {tmp_path}/loop.yaml:2: a YAML alias refers to a node that contains it (an endless value)\n",
    )
    assert emulator.requests == []


def test_a_few_aliases_are_fine(bounded_qwen, tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text(
        "- name: a\n  description: d\n  parameters: &p {type: object, properties: {city: {type: string}}}\n"
        "- name: b\n  description: d\n  parameters: *p\n",
        encoding="utf-8",
    )
    result = bounded_qwen("ask", "--dry-run", "--tools-file", str(tmp_path / "tools.yaml"), "hi")
    tools = json.loads(result.stdout)["body"]["tools"]
    assert result.returncode == 0
    assert (
        tools[0]["parameters"]
        == tools[1]["parameters"]
        == {"type": "object", "properties": {"city": {"type": "string"}}}
    )


# --- numbers JSON cannot carry --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('{"x": 1e999}', "1e999 is too large for a JSON number"),
        ('{"x": [-1e400]}', "-1e400 is too large for a JSON number"),
        ('{"x": NaN}', "NaN is not a JSON number"),
        ('{"x": Infinity}', "Infinity is not a JSON number"),
    ],
)
def test_extra_with_a_number_json_cannot_carry_is_refused(qwen, emulator: Emulator, extra: str, problem: str) -> None:
    for dry_run in ([], ["--dry-run"]):
        result = qwen("ask", *dry_run, "--extra", extra, "hi")
        assert (result.returncode, result.stdout) == (2, "")
        assert (
            result.stderr
            == f"qwen: error: --extra is not JSON the API can take ({problem}); pass an object like '{{\"key\": 1}}'\n"
        )
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "nan.json",
            '[{"role": "user", "content": "hi", "x": NaN}]',
            "not JSON qwen can send: NaN is not a JSON number",
        ),
        (
            "big.json",
            '[{"role": "user", "content": "hi", "x": 1e999}]',
            "not JSON qwen can send: 1e999 is too large for a JSON number",
        ),
        (
            "nan.txt",
            '[{"role": "user", "content": "hi", "x": -Infinity}]',
            "not JSON qwen can send: -Infinity is not a JSON number",
        ),
        (
            "inf.yaml",
            "- role: user\n  content: hi\n  x: .inf\n",
            "3: .inf is not a finite number, and JSON has no NaN or infinity",
        ),
        (
            "nan.yml",
            "- role: user\n  content: hi\n  x: [1, .NaN]\n",
            "3: .NaN is not a finite number, and JSON has no NaN or infinity",
        ),
    ],
)
def test_a_messages_file_with_a_number_json_cannot_carry_is_refused(
    qwen, emulator: Emulator, tmp_path: Path, name: str, content: str, problem: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    for dry_run in ([], ["--dry-run"]):
        result = qwen("ask", *dry_run, "--messages", str(tmp_path / name))
        separator = ":" if problem[0].isdigit() else ": "
        assert (result.returncode, result.stdout, result.stderr) == (
            2,
            "",
            f"qwen: error: {tmp_path / name}{separator}{problem}\n",
        )
    assert emulator.requests == []


def test_a_tools_file_or_preset_with_nan_is_refused_naming_it(qwen, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "tools.json").write_text(
        '[{"name": "f", "description": "d", "parameters": {"type": "object", "maximum": NaN}}]'
    )
    (tmp_path / "preset.yaml").write_text(
        "tools:\n  - name: f\n    description: d\n    parameters: {type: object, maximum: -.inf}\n"
    )
    tools = qwen("ask", "--tools-file", str(tmp_path / "tools.json"), "hi")
    preset = qwen("ask", "-p", str(tmp_path / "preset.yaml"), "hi")
    assert (tools.returncode, tools.stderr) == (
        2,
        f"qwen: error: {tmp_path}/tools.json: not JSON qwen can send: NaN is not a JSON number\n",
    )
    assert (preset.returncode, preset.stderr) == (
        2,
        f"qwen: error: {tmp_path}/preset.yaml:4: -.inf is not a finite number, and JSON has no NaN or infinity\n",
    )
    assert emulator.requests == []
