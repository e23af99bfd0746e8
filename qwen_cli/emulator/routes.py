"""The API's endpoints (responses, input items, conversations and their items) and the routing (Files and Batches in `files`, `batches`) of every request to them."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from qwen_cli.emulator.batches import cancel_batch, create_batch, guarded, list_batches, retrieve_batch
from qwen_cli.emulator.faults import GATEWAY_ERRORS, NOT_JSON, RATE_LIMIT_MESSAGE, Faults
from qwen_cli.emulator.files import delete_file, file_content, list_files, retrieve_file, upload_file
from qwen_cli.emulator.replies import ECHO_KEY, KEY_PLACEHOLDER, execute, failed_shell
from qwen_cli.emulator.streams import stream_events
from qwen_cli.emulator.validation import validate_create
from qwen_cli.emulator.wire import (
    API_PREFIXES,
    CONTROL_PREFIX,
    JSON_TYPE,
    ApiFailure,
    JsonReply,
    Reply,
    StreamReply,
    dump,
    error_reply,
    invalid,
    json_reply,
    missing,
    new_id,
    normalize_message,
    parse_json,
    parse_object,
)

if TYPE_CHECKING:
    from qwen_cli.emulator.state import EmulatorState
    from qwen_cli.emulator.wire import Call


def create_response(state: EmulatorState, call: Call) -> Reply:
    """POST /responses: faults, validation, generation, then a JSON body or an event stream."""
    faults = state.faults
    try:
        reply = answer_create(state, call, faults)
    except ApiFailure as failure:
        reply = error_reply(failure, call.request_id)
    # Delay only after the reply is decided: a request its client gave up on must not wake later and
    # spend fault counters set for the requests that follow it.
    state.stopping.wait(faults.first_event_delay)
    return reply


def answer_create(state: EmulatorState, call: Call, faults: Faults) -> Reply:
    body = echo_key(parse_object(call.raw_body), call)
    streaming = body.get("stream") is True
    if state.take("http_status"):
        return gateway_fault(faults, call.request_id)
    if state.take("rate_limit_http200"):
        return failure_reply(failed_shell("server_error", RATE_LIMIT_MESSAGE), streaming, faults)
    try:
        turn = validate_create(state, call, body)
    except ApiFailure as failure:
        if not streaming:
            raise
        return failure_reply(failed_shell(failure.code, failure.message), True, faults)
    response, deltas = execute(state, turn)
    if streaming:
        return stream_reply(response, deltas, faults)
    return finished_reply(state, response)


def echo_key(body: dict[str, Any], call: Call) -> dict[str, Any]:
    """``@@echo-key``: every ``@@key`` in the input becomes the request's Bearer token (a hostile server's echo)."""
    if ECHO_KEY not in json.dumps(body.get("input")):
        return body
    token = call.headers.get("authorization", "").strip().partition(" ")[2].strip()
    return {**body, "input": replace_strings(body.get("input"), KEY_PLACEHOLDER, token)}


def replace_strings(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [replace_strings(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: replace_strings(item, old, new) for key, item in value.items()}
    return value


def stream_reply(response: dict[str, Any], deltas: dict[str, tuple[str, ...]], faults: Faults) -> Reply:
    """The events of a stream, or what a gateway that does not stream answers instead."""
    if faults.stream_body == "json":
        return JsonReply(200, dump(response))
    if faults.stream_body == "html":
        return JsonReply(200, portal_page(), "text/html")
    return StreamReply(tuple(stream_events(response, deltas)), faults)


def failure_reply(response: dict[str, Any], streaming: bool, faults: Faults) -> Reply:
    if streaming:
        return StreamReply(({"type": "response.failed", "response": response},), faults)
    return json_reply(200, response)


def finished_reply(state: EmulatorState, response: dict[str, Any]) -> JsonReply:
    body = dump(response)
    if response["status"] == "failed":
        return JsonReply(200, body)
    if state.take("truncate_json"):
        body = body[: len(body) // 2]
    elif state.take("invalid_json"):
        body = NOT_JSON
    elif state.take("stall_json"):
        return JsonReply(200, body, stall=True)
    return JsonReply(200, body)


def gateway_fault(faults: Faults, request_id: str) -> JsonReply:
    status = faults.http_status
    code, message = GATEWAY_ERRORS.get(status, (status_phrase(status), status_phrase(status)))
    envelope = dump({"request_id": request_id, "code": code, "message": message})
    headers = (("Retry-After", faults.retry_after),) if faults.retry_after is not None else ()
    if faults.error_body == "html":
        return JsonReply(status, proxy_page(status), "text/html", headers)
    if faults.error_body == "nested":
        envelope = dump({"error": {"message": message, "type": code}})
    elif faults.error_body == "truncated":
        envelope = envelope[: len(envelope) // 2]
    elif faults.error_body == "invalid":
        envelope = NOT_JSON
    return JsonReply(status, envelope, JSON_TYPE, headers)


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def portal_page() -> bytes:
    """What a captive portal or a web filter answers, HTTP 200, in place of the API's reply."""
    return (
        b"<!DOCTYPE html>\r\n<html>\r\n<head><title>Sign in to the network</title></head>\r\n"
        b"<body><p>Please accept the terms of use to continue.</p></body>\r\n</html>\r\n"
    )


def proxy_page(status: int) -> bytes:
    title = f"{status} {status_phrase(status)}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>istio-envoy</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def stored_record(state: EmulatorState, response_id: str) -> dict[str, Any]:
    with state.lock:
        record = state.responses.get(response_id)
        if record is None:
            raise invalid(f"Response with id '{response_id}' not found.", 404)
        return copy.deepcopy(record)


def retrieve_response(state: EmulatorState, call: Call, response_id: str) -> Reply:
    return json_reply(200, stored_record(state, response_id)["response"])


def delete_response(state: EmulatorState, call: Call, response_id: str) -> Reply:
    with state.lock:
        if state.responses.pop(response_id, None) is None:
            raise invalid(f"Response with id '{response_id}' not found.", 404)
    return json_reply(200, {"deleted": True, "id": response_id})


def list_input_items(state: EmulatorState, call: Call, response_id: str) -> Reply:
    record = stored_record(state, response_id)
    response = record["response"]
    page, has_more = paginate(record["listing"], call.query)
    listing = {**page_body(page, has_more), "id": response_id, "model": response["model"]}
    listing["created_at"] = response["created_at"] * 1000  # milliseconds here, unlike the Response itself
    if response.get("previous_response_id"):
        listing["previous_response_id"] = response["previous_response_id"]
    return json_reply(200, listing)


def paginate(items: list[dict[str, Any]], query: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
    """Order (default desc), skip past ``after``, then cut to ``limit`` (1-100, default 20)."""
    limit, order = query.get("limit", "20"), query.get("order", "desc")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        raise invalid(f"Invalid 'limit': {limit}. Expected a value between [1,100], but got {limit} instead.")
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid 'order': {order}. Supported values are: ('asc','desc').")
    ordered = list(reversed(items)) if order == "desc" else list(items)
    after = query.get("after")
    if after:
        position = next((index for index, item in enumerate(ordered) if item.get("id") == after), None)
        ordered = [] if position is None else ordered[position + 1 :]
    return ordered[: int(limit)], len(ordered) > int(limit)


def page_body(page: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    first = page[0]["id"] if page else None
    last = page[-1]["id"] if page else None
    return {"data": page, "first_id": first, "last_id": last, "has_more": has_more}


def check_conversation_items(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("Invalid 'items': must be an array.")
    if len(value) > 20:
        raise invalid(f"Invalid 'items': at most 20 items are allowed, but got {len(value)}.")
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            raise invalid(f"Invalid 'items[{index}]': only items of type 'message' are supported.")
        items.append(normalize_message(item, f"items[{index}]"))
    return items


def check_metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid 'metadata': must be an object.")
    if len(value) > 16:
        raise invalid(f"Invalid 'metadata': at most 16 key-value pairs are allowed, but got {len(value)}.")
    for key, item in value.items():
        if len(key) > 64:
            raise invalid(f"Invalid 'metadata': key '{key}' is longer than 64 characters.")
        if not isinstance(item, str) or len(item) > 512:
            raise invalid(f"Invalid 'metadata': the value of '{key}' must be a string of at most 512 characters.")
    return dict(value)


def conversation_record(state: EmulatorState, conversation_id: str) -> dict[str, Any]:
    """The live record; callers hold the lock."""
    record = state.conversations.get(conversation_id)
    if record is None:
        raise invalid(f"Conversation with id '{conversation_id}' not found.", 404)
    return record


def create_conversation(state: EmulatorState, call: Call) -> Reply:
    body = parse_object(call.raw_body)
    items, metadata = check_conversation_items(body.get("items")), check_metadata(body.get("metadata"))
    conversation: dict[str, Any] = {
        "id": new_id("conv"),
        "object": "conversation",
        "created_at": int(time.time() * 1000),
    }
    conversation["metadata"] = metadata
    with state.lock:
        state.conversations[conversation["id"]] = {"object": conversation, "items": items}
    return json_reply(200, conversation)


def get_conversation(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    with state.lock:
        return json_reply(200, conversation_record(state, conversation_id)["object"])


def update_conversation(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    body = parse_object(call.raw_body)
    if body.get("metadata") is None:
        raise missing("metadata")
    metadata = check_metadata(body["metadata"])
    with state.lock:
        record = conversation_record(state, conversation_id)
        record["object"]["metadata"] = metadata
        return json_reply(200, record["object"])


def delete_conversation(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    with state.lock:
        conversation_record(state, conversation_id)
        del state.conversations[conversation_id]
    return json_reply(200, {"id": conversation_id, "object": "conversation.deleted", "deleted": True})


def add_conversation_items(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    body = parse_object(call.raw_body)
    if body.get("items") is None:
        raise missing("items")
    items = check_conversation_items(body["items"])
    with state.lock:
        conversation_record(state, conversation_id)["items"].extend(items)
    return json_reply(200, page_body(items, False))


def list_conversation_items(state: EmulatorState, call: Call, conversation_id: str) -> Reply:
    with state.lock:
        items = copy.deepcopy(conversation_record(state, conversation_id)["items"])
    page, has_more = paginate(items, call.query)
    return json_reply(200, {**page_body(page, has_more), "object": "list"})


def find_item(state: EmulatorState, conversation_id: str, item_id: str) -> dict[str, Any]:
    """The live item; callers hold the lock."""
    for item in conversation_record(state, conversation_id)["items"]:
        if item["id"] == item_id:
            return item
    raise invalid(f"Item with id '{item_id}' not found.", 404)


def get_conversation_item(state: EmulatorState, call: Call, conversation_id: str, item_id: str) -> Reply:
    with state.lock:
        return json_reply(200, find_item(state, conversation_id, item_id))


def delete_conversation_item(state: EmulatorState, call: Call, conversation_id: str, item_id: str) -> Reply:
    with state.lock:
        item = find_item(state, conversation_id, item_id)
        conversation_record(state, conversation_id)["items"].remove(item)
    return json_reply(200, {"id": item_id, "object": "conversation.item.deleted", "deleted": True})


Route = Callable[..., Reply]


SEGMENT = r"([^/]+)"


ROUTES: tuple[tuple[re.Pattern[str], dict[str, Route]], ...] = (
    (re.compile(r"/responses"), {"POST": create_response}),
    (re.compile(rf"/responses/{SEGMENT}"), {"GET": retrieve_response, "DELETE": delete_response}),
    (re.compile(rf"/responses/{SEGMENT}/input_items"), {"GET": list_input_items}),
    (re.compile(r"/conversations"), {"POST": create_conversation}),
    (
        re.compile(rf"/conversations/{SEGMENT}"),
        {"GET": get_conversation, "POST": update_conversation, "DELETE": delete_conversation},
    ),
    (re.compile(rf"/conversations/{SEGMENT}/items"), {"GET": list_conversation_items, "POST": add_conversation_items}),
    (
        re.compile(rf"/conversations/{SEGMENT}/items/{SEGMENT}"),
        {"GET": get_conversation_item, "DELETE": delete_conversation_item},
    ),
    (re.compile(r"/files"), {"POST": guarded(upload_file), "GET": guarded(list_files)}),
    (re.compile(rf"/files/{SEGMENT}"), {"GET": guarded(retrieve_file), "DELETE": guarded(delete_file)}),
    (re.compile(rf"/files/{SEGMENT}/content"), {"GET": guarded(file_content)}),
    (re.compile(r"/batches"), {"POST": guarded(create_batch), "GET": guarded(list_batches)}),
    (re.compile(rf"/batches/{SEGMENT}"), {"GET": guarded(retrieve_batch)}),
    (re.compile(rf"/batches/{SEGMENT}/cancel"), {"POST": guarded(cancel_batch)}),
)


def handle_call(state: EmulatorState, call: Call) -> Reply:
    """The single entry point of every request: control endpoints, else record, auth and route."""
    try:
        if call.path.startswith(CONTROL_PREFIX):
            return handle_control(state, call)
        state.record(describe_call(call))
        check_auth(state, call)
        route, ids = resolve_route(call)
        return route(state, call, *ids)
    except ApiFailure as failure:
        return error_reply(failure, call.request_id)
    except Exception as exc:  # a bug must reach the client as a 500, not as a dropped connection
        return error_reply(ApiFailure(500, "InternalError", f"Emulator error: {exc!r}"), call.request_id)


def describe_call(call: Call) -> dict[str, Any]:
    headers = {name: ("[redacted]" if name == "authorization" else value) for name, value in call.headers.items()}
    try:
        body = parse_json(call.raw_body)
    except ApiFailure:
        body = None
    return {"method": call.method, "path": call.path, "query": dict(call.query), "headers": headers, "body": body}


def check_auth(state: EmulatorState, call: Call) -> None:
    header = call.headers.get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    if not header or (scheme.lower() == "bearer" and not token.strip()):
        raise ApiFailure(401, "InvalidApiKey", "No API-key provided.")
    if scheme.lower() != "bearer" or (state.api_key is not None and token.strip() != state.api_key):
        raise ApiFailure(401, "InvalidApiKey", "Invalid API-key provided.")


def resolve_route(call: Call) -> tuple[Route, tuple[str, ...]]:
    rest = next((call.path[len(prefix) :] for prefix in API_PREFIXES if call.path.startswith(prefix + "/")), None)
    if rest is None:
        raise ApiFailure(404, "Not Found", "Not support")
    for pattern, methods in ROUTES:
        match = pattern.fullmatch(rest.rstrip("/"))
        if match is None:
            continue
        if call.method not in methods:
            raise ApiFailure(405, "Method Not Allowed", f"Method '{call.method}' is not allowed for '{call.path}'.")
        return methods[call.method], match.groups()
    raise ApiFailure(404, "Not Found", "Not support")


def handle_control(state: EmulatorState, call: Call) -> Reply:
    route = (call.method, call.path.rstrip("/"))
    if route == ("GET", "/__emulator/requests"):
        return json_reply(200, state.snapshot_requests())
    if route == ("POST", "/__emulator/reset"):
        state.reset()
        return json_reply(200, {"reset": True})
    if route[1] == "/__emulator/faults" and call.method in ("GET", "POST", "DELETE"):
        return control_faults(state, call)
    raise ApiFailure(404, "Not Found", "Not support")


def control_faults(state: EmulatorState, call: Call) -> Reply:
    if call.method == "POST":
        try:
            state.set_faults(Faults.from_mapping(parse_object(call.raw_body)))
        except (TypeError, ValueError) as exc:
            raise invalid(str(exc)) from None
    elif call.method == "DELETE":
        state.set_faults(Faults())
    with state.lock:
        return json_reply(200, {"faults": asdict(state.faults), "remaining": dict(state.remaining)})
