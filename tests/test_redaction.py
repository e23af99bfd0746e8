"""The redaction rules: where a secret is hidden, which secrets free text loses, and text that arrives in pieces."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from qwen_cli.redaction import REDACTED, Secrets, StreamRedactor, redacted_fields, shown_url, withheld_variables
from qwen_cli.render.renderers import HeldEvents

KEY = "sk-0123456789abcdef"
SECRETS = Secrets.of(KEY, ("en", "mcp-token-123"))


def test_free_text_loses_the_key_and_long_secrets_but_never_a_short_value() -> None:
    text = f"qwen-plus sent {KEY} and mcp-token-123 in response.content_part.added"
    assert SECRETS.text(text) == f"qwen-plus sent {REDACTED} and {REDACTED} in response.content_part.added"


def test_a_header_value_that_is_a_secret_is_hidden_whole_however_short() -> None:
    headers = {"Accept-Language": "en", "Authorization": f"Bearer {KEY}", "x-dashscope-session-cache": "enable"}
    assert SECRETS.headers(headers) == {
        "Accept-Language": REDACTED,
        "Authorization": f"Bearer {REDACTED}",
        "x-dashscope-session-cache": "enable",
    }


def test_json_hides_mcp_header_values_where_they_sit_and_long_secrets_anywhere() -> None:
    value = {
        "model": "qwen-plus",
        "tools": [{"type": "mcp", "server_label": "en", "headers": {"Accept-Language": "en", "X": "english"}}],
        "output": [{"type": "message", "content": [{"text": f"the key is {KEY}", "type": "output_text"}]}],
        KEY: "a key as a key",
    }
    assert SECRETS.json(value) == {
        "model": "qwen-plus",
        "tools": [{"type": "mcp", "server_label": "en", "headers": {"Accept-Language": REDACTED, "X": "english"}}],
        "output": [{"type": "message", "content": [{"text": f"the key is {REDACTED}", "type": "output_text"}]}],
        REDACTED: "a key as a key",
    }


def test_without_secrets_a_value_is_returned_as_it_is() -> None:
    value = {"a": ["b"]}
    assert Secrets().json(value) is value and not Secrets.of(None, ("", None))


def test_a_url_loses_its_password_in_place_only() -> None:
    assert shown_url("https://bob:pw@host/bob/pw?pw=1") == f"https://bob:{REDACTED}@host/bob/pw?pw=1"
    assert shown_url("https://host/path") == "https://host/path"


def test_a_record_loses_secrets_in_every_field() -> None:
    @dataclass(frozen=True)
    class Entry:
        prompt: str
        options: dict
        created_at: float

    entry = redacted_fields(Entry(f"say {KEY}", {"tools": [{"type": "mcp", "headers": {"A": "en"}}]}, 1.5), SECRETS)
    assert entry == Entry(f"say {REDACTED}", {"tools": [{"type": "mcp", "headers": {"A": REDACTED}}]}, 1.5)


def test_withheld_variables_are_the_named_ones_and_any_holding_a_secret() -> None:
    env = {
        "DASHSCOPE_API_KEY": KEY,
        "OPENAI_API_KEY": KEY,
        "LINE": f"x={KEY}",
        "TOKEN": "t",
        "LANG": "en",
        "PATH": "/bin",
    }
    assert withheld_variables(env, ("DASHSCOPE_API_KEY", "TOKEN"), SECRETS) == {
        "DASHSCOPE_API_KEY",
        "OPENAI_API_KEY",
        "LINE",
        "TOKEN",
    }


def test_a_secret_split_across_pieces_is_still_hidden() -> None:
    redactor = StreamRedactor(SECRETS)
    shown = [redactor.feed(piece) for piece in ("key: s", "k-0123", "456789abcdef!", " s")] + [redactor.flush()]
    assert shown == ["key: ", "", f"{REDACTED}!", " ", "s"]  # the last "s" may begin a key, until the end


pieces = st.lists(st.text(alphabet="sk-0123456789abcdefmn ", max_size=12), max_size=12)


@given(pieces)
def test_pieces_show_what_the_whole_text_shows(parts: list[str]) -> None:
    redactor = StreamRedactor(SECRETS)
    shown = "".join(redactor.feed(part) for part in parts) + redactor.flush()
    assert shown == SECRETS.text("".join(parts))


@given(pieces)
def test_held_events_keep_their_order_and_bytes_and_add_up_to_the_redacted_text(parts: list[str]) -> None:
    events = [
        {"type": "response.output_text.delta", "item_id": "m", "delta": part, "sequence_number": n}
        for n, part in enumerate(parts)
    ]
    held = HeldEvents(SECRETS)
    shown = [event for original in events for event in held.add(dict(original))] + held.flush()
    assert [event["sequence_number"] for event in shown] == list(range(len(parts)))
    assert "".join(event["delta"] for event in shown) == SECRETS.text("".join(parts))
    if KEY not in "".join(parts):
        assert [json.dumps(event) for event in shown] == [json.dumps(event) for event in events]
