"""Pure request building: options and the user's input become the request that would be sent.

No I/O and no HTTP here (standard library and `errors` only), so `--dry-run` and the tests see exactly what
`client` sends. Only what the user (or a preset or the config) set is sent: the server applies its own defaults.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypedDict
from urllib.parse import quote, urlencode

from qwen_cli import __version__
from qwen_cli.bounds import NotJSON, loads, non_finite_at
from qwen_cli.errors import UsageError

# Re-exported: the presets and the history's continuation import them from here.
from qwen_cli.redaction import REDACTED as REDACTED
from qwen_cli.redaction import Secrets, url_password
from qwen_cli.redaction import shown_url as shown_url

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


class InputText(TypedDict):
    type: str  # "input_text"
    text: str


class InputImage(TypedDict):
    type: str  # "input_image"
    image_url: str


class UserMessage(TypedDict):
    role: str
    content: list[InputText | InputImage]


@dataclass(frozen=True)
class RequestOptions:
    """The body parameters a user can set; None means "not set, let the server decide"."""

    model: str
    instructions: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    think: bool | None = None
    effort: str | None = None
    max_output_tokens: int | None = None
    store: bool | None = None
    session_cache: bool | None = None
    conversation: str | None = None
    previous_response_id: str | None = None
    tools: tuple[dict[str, Any], ...] | None = None
    tool_choice: str | dict[str, Any] | None = None
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class Attachment:
    """A text the user attached (a file or piped stdin), sent apart from the prompt under its name."""

    name: str
    text: str


@dataclass(frozen=True)
class UserInput:
    prompt: str = ""
    attachments: tuple[Attachment, ...] = ()
    images: tuple[str, ...] = ()  # https URLs or data URLs
    messages: tuple[dict[str, Any], ...] | None = None  # a complete `input` array from --messages

    def is_empty(self) -> bool:
        material = any(attachment.text.strip() for attachment in self.attachments)
        return not (self.prompt.strip() or material or self.images or self.messages)


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    url: str
    headers: dict[str, str] = field(repr=False)  # holds the key: a repr in a log or traceback must not show it
    body: dict[str, Any] | None = None
    stream: bool = False
    secrets: Secrets = field(default=Secrets(), repr=False)

    def redacted(self) -> dict[str, Any]:
        """The request as `--dry-run` and `--debug` show it: every secret hidden, in headers and body alike."""
        # The body can hold the key too: the documented MCP tool passes it in `headers` (via --extra).
        shown = self.secrets
        return {
            "method": self.method,
            "url": shown.url(self.url),
            "headers": shown.headers(self.headers),
            "body": shown.json(self.body),
        }


def redact(value: Any, secrets: Secrets) -> Any:
    """A copy of `value` (text, or JSON-like lists and dicts) with every secret hidden, by the rules of `redaction`."""
    return secrets.json(value)


def check_options(options: RequestOptions) -> None:
    """The documented ranges, checked before any network so a typo costs nothing."""
    if options.temperature is not None and not 0 <= options.temperature < 2:
        raise UsageError(f"--temperature must be in [0, 2), got {options.temperature:g}")
    if options.top_p is not None and not 0 < options.top_p <= 1:
        raise UsageError(f"--top-p must be in (0, 1], got {options.top_p:g}")
    if options.max_output_tokens is not None and options.max_output_tokens < 16:
        raise UsageError(f"--max-output-tokens must be at least 16, got {options.max_output_tokens}")
    if options.effort is not None and options.effort not in EFFORTS:
        raise UsageError(f"--effort must be one of {', '.join(EFFORTS)}, got '{options.effort}'")
    if options.conversation and options.previous_response_id:
        raise UsageError("--conversation and --previous cannot be used together: a turn continues one or the other")


# Fields a flag or the command decides: setting them through --extra would make qwen misread the reply.
RESERVED_EXTRA = {"stream": "use qwen stream (or qwen ask) to choose streaming"}


def parse_extra(text: str) -> dict[str, Any]:
    """`--extra` takes a JSON object of raw body fields, for parameters qwen has no flag for yet."""
    try:
        value = loads(text, finite=True)
    except NotJSON as exc:
        if exc.line is not None:
            raise UsageError(
                f"--extra is not valid JSON ({exc.reason} at column {exc.column}); pass an object like '{{\"key\": 1}}'"
            ) from exc
        raise UsageError(f"--extra is not JSON the API can take ({exc}); pass an object like '{{\"key\": 1}}'") from exc
    if not isinstance(value, dict):
        raise UsageError("--extra must be a JSON object, like '{\"key\": 1}'")
    for key, advice in RESERVED_EXTRA.items():
        if key in value:
            raise UsageError(f"--extra cannot set '{key}': {advice}")
    return value


def build_input(user_input: UserInput) -> str | list[Any]:
    """A bare prompt is sent as a string; attachments and images make one user message of separate parts."""
    messages: list[Any] = list(user_input.messages or ())
    if user_input.attachments or user_input.images:
        messages.append(user_message(user_input))
    elif user_input.prompt:
        if not messages:
            return user_input.prompt
        messages.append({"role": "user", "content": user_input.prompt})
    return messages


def user_message(user_input: UserInput) -> UserMessage:
    # The material comes first and the instruction last, each in its own part, so the model can tell them apart.
    parts: list[InputText | InputImage] = [
        InputText(type="input_text", text=wrap_attachment(a)) for a in user_input.attachments
    ]
    parts += [InputImage(type="input_image", image_url=url) for url in user_input.images]
    if user_input.prompt:
        parts.append(InputText(type="input_text", text=user_input.prompt))
    return UserMessage(role="user", content=parts)


def wrap_attachment(attachment: Attachment) -> str:
    name = attachment.name.replace('"', "'")
    return f'<document name="{name}">\n{attachment.text.rstrip()}\n</document>'


def build_body(options: RequestOptions, user_input: UserInput, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": options.model, "input": build_input(user_input)}
    optional = {
        "instructions": options.instructions,
        "temperature": options.temperature,
        "top_p": options.top_p,
        "enable_thinking": options.think,
        "max_output_tokens": options.max_output_tokens,
        "store": options.store,
        "conversation": options.conversation,
        "previous_response_id": options.previous_response_id,
        "tools": list(options.tools) if options.tools else None,
        "tool_choice": options.tool_choice,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    if options.effort is not None:
        body["reasoning"] = {"effort": options.effort}
    if stream:
        body["stream"] = True
    return merge(body, options.extra or {})


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `extra` into `base`: `--extra '{"reasoning": {"summary": "auto"}}'` keeps the effort."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def build_headers(api_key: str | None, options: RequestOptions | None = None, stream: bool = False) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        "User-Agent": f"qwen-cli/{__version__}",
    }
    if api_key:
        headers = {"Authorization": f"Bearer {api_key}", **headers}
    if options is not None and options.session_cache is not None:
        headers["x-dashscope-session-cache"] = "enable" if options.session_cache else "disable"
    return headers


def build_request(
    base_url: str,
    api_key: str | None,
    options: RequestOptions,
    user_input: UserInput,
    stream: bool,
    secrets: tuple[str, ...] = (),
) -> PreparedRequest:
    """The request to send; `secrets` (MCP header values, say) are redacted with the key wherever shown."""
    check_options(options)
    if user_input.is_empty():
        raise UsageError("nothing to send: give a prompt, pipe text into qwen, or attach a file with -f")
    body = build_body(options, user_input, stream)
    refuse_non_finite(body)
    return PreparedRequest(
        method="POST",
        url=f"{base_url}/responses",
        headers=build_headers(api_key, options, stream),
        body=body,
        stream=stream,
        secrets=Secrets.of(api_key, (url_password(base_url), *secrets)),
    )


# What a path segment of a companion endpoint may be: the API's ids (resp_<uuid>, a bare uuid, conv_..., msg_...)
# and its words (input_items). Never `.` or `..`, which would climb out of the endpoint, and nothing that would
# start a query or a fragment.
PATH_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
ID_RULE = "an id is letters, digits, '_' and '-', starting with a letter or digit, at most 128 characters (like resp_4ca7fa5e-6ff5-9787-bc18-af6ca5eff36c)"


def api_path(*segments: str) -> str:
    """The path of a companion endpoint below the base URL, from its segments; an id that is not one is a UsageError."""
    for segment in segments:
        if not PATH_SEGMENT.fullmatch(segment):
            shown = segment if len(segment) <= 60 else segment[:59] + "…"
            raise UsageError(f"{json.dumps(shown, ensure_ascii=False)} is not an id: {ID_RULE}")
    # Percent-encoded all the same: the rule above may widen one day, and a `/`, `?` or `%` must then stay in its segment.
    return "/".join(quote(segment, safe="") for segment in segments)


def refuse_non_finite(body: dict[str, Any]) -> None:
    """The last check before a body can be sent: every source (--extra, files, presets) is checked on its own and
    names itself; this catches what any of them missed, since NaN or an infinity would make the body invalid JSON."""
    where = non_finite_at(body)
    if where is not None:
        raise UsageError(
            f"the request body holds a number that is not finite (NaN or an infinity) at {where}; JSON cannot carry it"
        )


def build_api_request(
    base_url: str,
    api_key: str | None,
    method: str,
    path: str,
    query: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> PreparedRequest:
    """A request to the companion endpoints (stored responses and conversations); `path` comes from `api_path`."""
    pairs = {key: value for key, value in (query or {}).items() if value is not None}
    url = f"{base_url}/{path}" + ("?" + urlencode(pairs) if pairs else "")
    secrets = Secrets.of(api_key, (url_password(base_url),))
    return PreparedRequest(method=method, url=url, headers=build_headers(api_key), body=body, secrets=secrets)
