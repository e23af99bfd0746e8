"""Hypothesis properties for the three parsers of untrusted input: the SSE decoder (bytes from the network),
the request builder (option values from the command line) and the preset loader (YAML files on disk).

Each must either succeed or fail with its documented error, never with another exception. Example counts are
kept modest (and the database off) so the file runs in seconds and leaves nothing in the checkout.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qwen_cli.api.request import EFFORTS, Attachment, RequestOptions, UserInput, build_request, parse_extra
from qwen_cli.api.sse import SSEMessage, iter_events, iter_sse
from qwen_cli.errors import UsageError
from qwen_cli.settings.presets import ALIASES, CHECKS, Preset, load_preset_file

# derandomize: every run tries the same examples, so a result never flips between runs.
FUZZ = settings(
    max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
FEW = settings(FUZZ, max_examples=60)

# Text that can be encoded as UTF-8 (no lone surrogates), as anything read from a file or a socket is.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)
JSON_OBJECTS = st.dictionaries(TEXT, JSON_VALUES, max_size=5)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` split at the given positions (any positions: inside a line, a CRLF or a UTF-8 character)."""
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    bounds = [0, *points, len(data)]
    return [data[start:end] for start, end in zip(bounds, bounds[1:])]


def decode(chunks: list[bytes]) -> tuple[list[SSEMessage], list[dict[str, Any]], list[str]]:
    reasons: list[str] = []
    return list(iter_sse(chunks)), list(iter_events(iter_sse(chunks), on_malformed=reasons.append)), reasons


# --- the SSE decoder -----------------------------------------------------------------------------------------------

SSE_NOISE = st.lists(
    st.sampled_from(
        [
            b"data:",
            b"data: ",
            b"event:",
            b"id:",
            b"retry: 10",
            b":",
            b"\n",
            b"\r",
            b"\r\n",
            b"\n\n",
            b"{",
            b"}",
            b'"type"',
            b"[DONE]",
            b"\xef\xbb\xbf",
            b"\xe4\xb8",
            b"\xad",
            b"\x00",
            b"\xff",
        ]
    )
    | st.binary(max_size=12),
    max_size=30,
).map(b"".join)


@FUZZ
@given(data=st.binary(max_size=300) | SSE_NOISE, cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_the_sse_decoder_takes_any_bytes_in_any_chunks_without_raising(data: bytes, cuts: list[int]) -> None:
    messages, events, reasons = decode(chunked(data, cuts))
    assert all(isinstance(message, SSEMessage) for message in messages)
    assert all(isinstance(event, dict) for event in events)
    assert len(events) + len(reasons) <= len(messages)  # every message is an event, a report or skipped


@FUZZ
@given(data=st.binary(max_size=300) | SSE_NOISE, cuts=st.lists(st.integers(min_value=0), max_size=12))
def test_chunking_never_changes_the_decoded_messages(data: bytes, cuts: list[int]) -> None:
    whole = decode([data])
    assert decode(chunked(data, cuts)) == whole
    assert decode([bytes([byte]) for byte in data]) == whole  # one byte at a time


EVENT_TYPES = st.from_regex(r"[a-z][a-z_.]{0,30}", fullmatch=True)
EVENTS = st.lists(st.builds(lambda kind, payload: {**payload, "type": kind}, EVENT_TYPES, JSON_OBJECTS), max_size=6)


def frame(event: dict[str, Any], number: int, style: str, indent: int | None) -> str:
    """One event as a server writes it: DashScope's or OpenAI's framing, LF, CRLF or CR line ends, the JSON on
    one `data:` line or (indented) spread over several, with a comment and an unknown field or two."""
    lines = json.dumps(event, ensure_ascii=False, indent=indent).split("\n")
    if style == "openai":
        fields = [f"event: {event['type']}", *(f"data: {line}" for line in lines)]
    else:
        fields = [
            f"id:{number}",
            f"event:{event['type']}",
            ":HTTP_STATUS/200",
            "retry:1000",
            *(f"data:{line}" for line in lines),
        ]
    newline = {"openai": "\n", "dashscope": "\n", "crlf": "\r\n", "cr": "\r"}[style]
    return newline.join(fields) + newline * 2


@FUZZ
@given(
    events=EVENTS,
    style=st.sampled_from(["dashscope", "openai", "crlf", "cr"]),
    indent=st.none() | st.integers(min_value=0, max_value=2),
    bom=st.booleans(),
    keepalive=st.booleans(),
    cuts=st.lists(st.integers(min_value=0), max_size=20),
)
def test_valid_events_round_trip_through_any_framing_and_chunking(
    events: list[dict[str, Any]], style: str, indent: int | None, bom: bool, keepalive: bool, cuts: list[int]
) -> None:
    text = "".join(frame(event, number, style, indent) for number, event in enumerate(events, 1))
    if keepalive:
        text = ": ping\n\ndata:\n\n" + text
    if style == "openai":
        text += "data: [DONE]\n\n"
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    messages, decoded, reasons = decode(chunked(data, cuts))
    assert (decoded, reasons) == (events, [])


# --- the request builder -------------------------------------------------------------------------------------------

KEY = st.from_regex(r"sk-[A-Za-z0-9]{8,24}", fullmatch=True)
SECRET = st.from_regex(r"mcp-[A-Za-z0-9]{8,24}", fullmatch=True)
# Each value is often unset, often in range, and sometimes anything at all (NaN, infinities, negatives).
NUMBERS = st.floats() | st.integers(min_value=-5, max_value=5)
OPTIONS = st.builds(
    RequestOptions,
    model=TEXT,
    instructions=st.none() | TEXT,
    temperature=st.none() | st.floats(0, 2, exclude_max=True) | st.none() | st.floats(0, 2, exclude_max=True) | NUMBERS,
    top_p=st.none() | st.floats(0, 1, exclude_min=True) | st.none() | st.floats(0, 1, exclude_min=True) | NUMBERS,
    think=st.none() | st.booleans(),
    effort=st.none() | st.sampled_from(EFFORTS) | st.none() | st.sampled_from(EFFORTS) | TEXT,
    max_output_tokens=st.none() | st.integers(16, 10**6) | st.none() | st.integers(16, 10**6) | st.integers(),
    store=st.none() | st.booleans(),
    session_cache=st.none() | st.booleans(),
    conversation=st.none() | st.none() | st.none() | TEXT,
    previous_response_id=st.none() | st.none() | TEXT,
    tools=st.none() | st.lists(JSON_OBJECTS, max_size=3).map(tuple),
    tool_choice=st.none() | TEXT | JSON_OBJECTS,
)
INPUTS = st.builds(
    UserInput,
    prompt=TEXT,
    attachments=st.lists(st.builds(Attachment, name=TEXT, text=TEXT), max_size=2).map(tuple),
    images=st.lists(TEXT, max_size=2).map(tuple),
    messages=st.none() | st.lists(JSON_OBJECTS, max_size=2).map(tuple),
)
# The wire name of each body option, when it is set.
WIRE = {
    "instructions": "instructions",
    "temperature": "temperature",
    "top_p": "top_p",
    "think": "enable_thinking",
    "max_output_tokens": "max_output_tokens",
    "store": "store",
    "conversation": "conversation",
    "previous_response_id": "previous_response_id",
    "tool_choice": "tool_choice",
}


def expected_fields(options: RequestOptions, stream: bool) -> dict[str, Any]:
    """The body fields the options set, with their values (`input` apart)."""
    fields = {WIRE[name]: getattr(options, name) for name in WIRE if getattr(options, name) is not None}
    if options.tools:
        fields["tools"] = list(options.tools)
    if options.effort is not None:
        fields["reasoning"] = {"effort": options.effort}
    if stream:
        fields["stream"] = True
    return {"model": options.model, **fields}


@settings(FUZZ, max_examples=300)
@given(
    options=OPTIONS,
    user_input=INPUTS,
    stream=st.booleans(),
    extra=st.none() | JSON_OBJECTS,
    key=st.none() | KEY,
    secret=SECRET,
    plant=st.booleans(),
)
def test_the_request_builder_gives_a_body_of_only_the_options_set_or_a_usage_error(
    options: RequestOptions,
    user_input: UserInput,
    stream: bool,
    extra: dict[str, Any] | None,
    key: str | None,
    secret: str,
    plant: bool,
) -> None:
    if plant and key:  # the secrets may also sit in the body, as the documented MCP tool puts them (via --extra)
        extra = {
            **(extra or {}),
            "tools": [{"type": "mcp", "headers": {"Authorization": f"Bearer {key}", "X-Token": secret}}],
        }
        options = replace(options, instructions=f"my key is {key}")
    options = replace(options, extra=extra)
    try:
        request = build_request("http://127.0.0.1:9/v1", key, options, user_input, stream, (secret,))
    except UsageError as error:
        assert error.message and "\n" not in error.message
        return
    body = request.body
    assert body is not None
    json.dumps(body, allow_nan=False)  # a valid JSON document
    fields = expected_fields(options, stream)
    assert set(body) == {"input", *fields, *(extra or {})}
    for name, value in fields.items():
        if name not in (extra or {}):
            assert body[name] == value
    assert body["input"] not in ("", [])
    assert ("Authorization" in request.headers) == (key is not None)
    assert ("x-dashscope-session-cache" in request.headers) == (options.session_cache is not None)
    shown = json.dumps(request.redacted(), ensure_ascii=False)
    for hidden in (key, secret):
        assert not hidden or hidden not in shown, "a secret survives in --dry-run and --debug"


@FUZZ
@given(text=TEXT | JSON_VALUES.map(json.dumps) | JSON_OBJECTS.map(json.dumps))
@example('{"reasoning": {"summary": "auto"}}')
def test_extra_is_a_json_object_or_a_usage_error(text: str) -> None:
    assert_extra_or_usage_error(text)


def assert_extra_or_usage_error(text: str) -> None:
    try:
        extra = parse_extra(text)
    except UsageError as error:
        assert error.message.startswith("--extra ")
        return
    assert isinstance(extra, dict) and "stream" not in extra
    json.dumps(extra, allow_nan=False)  # what --extra adds must keep the body valid JSON


@pytest.mark.parametrize(
    "text",
    ["[" * 1000, '{"a": ' * 1000, '{"top_k": NaN}', '{"a": [-Infinity]}'],
    ids=["deep array", "deep object", "NaN", "Infinity"],
)
def test_extra_nested_too_deep_or_not_finite_is_a_usage_error(text: str) -> None:
    # Python's json reads NaN and Infinity, which are not JSON, and recurses on nesting: plain cases, apart
    # from the property, so the random search there still runs whatever becomes of them.
    assert_extra_or_usage_error(text)


# --- the preset loader ---------------------------------------------------------------------------------------------

YAML_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
YAML_VALUES = st.recursive(
    YAML_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)
PRESET_KEYS = st.sampled_from([*CHECKS, *ALIASES, "api_key", "token", "prompt"]) | TEXT | st.integers()
PRESET_MAPPINGS = st.dictionaries(PRESET_KEYS, YAML_VALUES, max_size=6)


def load(content: bytes) -> tuple[Path, Preset | UsageError]:
    with tempfile.TemporaryDirectory(prefix="qwen-fuzz-") as name:
        folder = Path(name)
        env = {"HOME": str(folder), "XDG_CONFIG_HOME": str(folder / "config")}  # no preset outside it is found
        path = folder / "fuzzed.yaml"
        path.write_bytes(content)
        try:
            return path, load_preset_file(path, folder, env)
        except UsageError as error:
            return path, error


def assert_preset_or_named_error(path: Path, outcome: Preset | UsageError) -> None:
    if isinstance(outcome, UsageError):
        assert str(path) in outcome.message, f"the error does not name the file: {outcome.message}"
        return
    assert isinstance(outcome, Preset) and outcome.source == path
    if outcome.temperature is not None:
        assert 0 <= outcome.temperature < 2
    if outcome.top_p is not None:
        assert 0 < outcome.top_p <= 1
    if outcome.effort is not None:
        assert outcome.effort in EFFORTS


@FEW
@given(mapping=PRESET_MAPPINGS)
def test_any_mapping_in_a_preset_file_is_a_preset_or_a_usage_error_naming_the_file(mapping: dict[Any, Any]) -> None:
    path, outcome = load(yaml.safe_dump(mapping, allow_unicode=True).encode("utf-8"))
    assert_preset_or_named_error(path, outcome)


@FEW
@given(
    content=TEXT.map(str.encode)
    | st.binary(max_size=80)
    | YAML_VALUES.map(lambda value: yaml.safe_dump(value).encode())
)
@example(b"temperature: .nan\ntop_p: .inf\n")
@example(b"model: !!python/object:os.system echo\n")
@example(b"? [a, b]\n: c\n")
def test_any_text_in_a_preset_file_is_a_preset_or_a_usage_error_naming_the_file(content: bytes) -> None:
    path, outcome = load(content)
    assert_preset_or_named_error(path, outcome)


@pytest.mark.parametrize(
    "content",
    [b"model: " + b"[" * 1000, b"tools:\n" + b"".join(b"  " * n + b"- \n" for n in range(1000))],
    ids=["flow", "block"],
)
def test_a_preset_nested_too_deep_is_a_usage_error_naming_the_file(content: bytes) -> None:
    path, outcome = load(content)
    assert_preset_or_named_error(path, outcome)
