"""A local emulator of the DashScope (Model Studio) Responses API: a real HTTP server on 127.0.0.1.

Owns the emulated wire behaviour (routes, validation, deterministic replies, SSE framing, fault switches)
for tests and demos, in the modules of this package: `server` (HTTP, the Emulator object, serve_forever),
`routes`, `validation`, `replies`, `streams`, `faults`, `state` and `wire`; the Batch API in `files`, `batches`
and `batch_lines`. Standard library only; of the package
it imports only the model catalogue, and it does nothing at import time.

Paths: everything lives under ``/compatible-mode/v1`` and, identically, under the legacy prefix
``/api/v2/apps/protocols/compatible-mode/v1``. Control endpoints (not part of the real API, never recorded,
no auth): ``GET /__emulator/requests``, ``GET|POST|DELETE /__emulator/faults``, ``POST /__emulator/reset``.

Reply rules (all derived from the request, so tests can assert them):

* The *prompt text* is the text of the last ``user`` message of this request's ``input`` (a string input, a
  content string, or its ``input_text``/``text`` parts joined with "\\n"); ``""`` when there is none.
* ``@@echo-key`` in the prompt makes the emulator a server that echoes the key back: every ``@@key`` in the
  request's input texts is read as the request's Bearer token before the rules below apply (so the echo, the
  reasoning, a call's arguments and the stored items carry it), the answer streams in deltas of at most
  ``ECHO_KEY_PIECE`` characters (so the key arrives in pieces), and a failure's message quotes the prompt.
* Answer, first rule that applies:
  1. the input ends with a ``function_call_output``: the calls of rule 3 written in those outputs when there are
     any (a tool result that asks for more calls, so multi-round loops can be tested), else
     ``"Tool results: <out1>; <out2>"`` (every ``function_call_output`` after the last user message, in order);
  2. ``@@fail``: the response fails: ``status "failed"``, ``error {"code": "InternalError",
     "message": "Emulated failure."}``, no output, no usage; a stream is created -> in_progress -> failed;
  3. ``@@call=NAME`` or ``@@call=NAME:{"json": "args"}`` (repeatable: parallel calls), only when ``tools`` has a
     ``function`` tool and ``tool_choice`` is not ``"none"``: ``function_call`` items instead of a message
     (any NAME; arguments are the JSON text exactly as written, ``"{}"`` without one);
  4. ``@@words=N``: ``"w1 w2 ... wN"`` (N at most 100000);
  5. ``@@bytes=N``: exactly N ASCII bytes: lines of 79 ``x`` plus ``"\\n"``, the remainder as ``x`` without a
     newline; streamed in deltas of at most 1000 characters (N at most 50000000);
  6. ``@@markdown``: the fixed ``MARKDOWN_SAMPLE`` (heading, **bold**, list, python fence, table);
  7. ``@@ansi``: ``ANSI_SAMPLE`` (clear screen, red SGR, an OSC 8 hyperlink);
  8. otherwise the echo: ``"You said: <prompt>"`` when the prompt has at most 200 characters, else
     ``"You said <N> characters: <first 100> ... <last 100>"``. Only the echo is decorated:
     ``"[<instructions>] "`` in front when ``instructions`` is given; then `` (1 image)``/`` (N images)`` for the
     ``input_image``/``image_url`` parts of this request, `` (1 file)``/`` (N files)`` for ``input_file`` parts,
     and `` (turn K)`` when ``previous_response_id`` or a non-empty conversation supplied history, K = number
     of user messages in history + input. Example: ``"[Be brief] You said: hi (2 images) (turn 3)"``.
* Tokens are whitespace-separated words. ``max_output_tokens`` caps the answer's words (not the reasoning):
  a longer answer is cut to that many words, the message item and the response get ``status "incomplete"``,
  ``incomplete_details {"reason": "max_output_tokens"}``, and a stream ends with ``response.incomplete``.
* Thinking is on when ``reasoning.effort`` is present and not ``"none"`` (it has priority), else when
  ``enable_thinking`` is true, else for the models in ``THINKING_BY_DEFAULT`` and their dated variants. The
  output then starts with a ``reasoning`` item whose text is ``"Thinking about: <first 200 chars of prompt>"``.
* Built-in tools in ``tools`` (see ``BUILTIN_TOOLS``) each add one call item, in ``tools`` order, between the
  reasoning and the answer, with the stream events of the reference (§7.2/§7.3) and ``usage.x_tools`` counts.
* Usage: input = words of history + instructions + input (min 1); output = answer + reasoning + function
  arguments words. Session cache (header ``x-dashscope-session-cache: enable``): with a
  ``previous_response_id`` history of at least 1024 words, ``cached_tokens`` = the history's words; a turn
  whose input reaches 1024 words reports ``cache_creation_input_tokens`` = input - cached in
  ``x_details[0].input_tokens_details`` (present whenever the header enables the cache).
* Streams are word-sized text deltas (``\\S+\\s*``), reasoning the same, function arguments 8 characters at a time.

Choices where the reference is silent or ambiguous:

* Missing ids (retrieve, delete, input_items, conversations, conversation items) answer HTTP 404 with the
  flat envelope, code ``InvalidParameter``, ``"Response with id 'X' not found."`` (``Conversation with id``,
  ``Item with id`` for the others).
* Unknown ``conversation`` on create: 400 ``"Not found conversation: <id>"`` (by analogy with
  ``previous_response_id``). Failed and store:false responses are never chainable; deleted ones neither.
* ``Invalid 'store': NOT_A_BOOL.`` is read as the probe's value: the value sent is quoted in the message, as
  for ``temperature``, ``top_p`` and ``reasoning.effort``. Non-numeric temperature/top_p use the same message.
* The chat-style nested function tool message is completed as "... valid openai-compatible JSON schema.".
* ``function_call_output`` is valid when its ``function_call`` is found going back through an unbroken run of
  function_call/function_call_output items (so parallel calls answered by previous_response_id work).
* ``input_items`` lists history (earlier inputs and assistant messages/function calls) plus this turn's
  input; reasoning and built-in tool items are neither listed nor carried as context; for a ``conversation``
  turn the listed history is the conversation's items. Conversations receive this turn's input and output
  (except reasoning and built-in tool items) unless it failed.
* Every response carries the keys seen live (T1): ``background``, ``frequency_penalty``, ``metadata``,
  ``presence_penalty``, ``service_tier``, ``store``, ``temperature``, ``top_p``, ``top_logprobs``,
  ``max_output_tokens``, ``reasoning`` (echoes or defaults), plus ``instructions``/``previous_response_id``
  when given. A streamed response is stored before its events are written, faults or not.

Batch rules (the Files and Batches endpoints of ``batch-api.md``; every refusal uses the nested envelope
``{"error": {"message", "type", "param", "code"}}``, except a missing or wrong key, which stays flat):

* ``POST /files`` takes multipart/form-data with a ``file`` part that has a filename and ``purpose=batch``
  (anything else: 400, ``"'purpose' must be 'batch'"``, param ``purpose``); at most 500 MB, not empty. Input
  files are ``file-batch-<24 hex>``, output and error files both ``file-batch_output-<24 hex>`` (as seen live)
  with purpose ``batch_output``. Only those can be downloaded (``GET /files/{id}/content``; other ids: 400
  ``invalid_file``). Unknown file ids: 404 ``file_not_found``; unknown batch ids: 404 ``batch_not_found``.
  ``GET /files`` lists newest first (``after``, ``limit`` 1-2000, ``purpose``), without first/last ids.
* ``POST /batches`` checks ``input_file_id`` (an uploaded batch file), ``endpoint`` (``/v1/chat/completions``,
  ``/v1/embeddings``, ``/v1/chat/ds-test``), ``completion_window`` (``Nh``/``Nd``, 24h to 336h) and
  ``metadata`` (strings; ``ds_name`` at most 100 characters, ``ds_description`` 200) and answers the Batch with
  every key present, ``expires_at`` null, status ``validating``. ``GET /batches`` is newest first with ``after``,
  ``limit`` (1-100, default 20), ``status``, ``input_file_ids`` (at most 20) and ``ds_name`` (substring); an empty
  page is ``"data": null`` with null first/last ids.
* Life, driven by the clock on every read (no thread): each step lasts ``Faults.batch_step_seconds`` (taken at
  create): validating -> in_progress (``request_counts.total`` set; lines finish one by one across the step)
  -> finalizing -> completed. Validation failures end ``failed`` at the first step with ``errors.data[]``
  ``{code, message, param, line}``: ``invalid_json_line``, ``invalid_custom_id``, ``invalid_method``,
  ``url_not_found`` (a url that is not one of the three, or not the batch's endpoint), ``invalid_body`` (no
  model), ``duplicate_custom_id``, ``model_mismatch`` (the documented message), ``mismatched_test_url`` (every
  ``batch-test-model`` line when the endpoint is not ds-test), ``too_many_requests`` (over 50,000 lines),
  ``test_model_limit`` (test model over 100 lines or 1 MB), ``line_too_large`` (over 6 MB), ``empty_file``.
* Cancel (validating, in_progress, finalizing) answers ``cancelling`` with ``cancelling_at`` still null; a step
  later ``cancelled``: lines finished before are in the output file, the rest in the error file (code
  ``batch_cancelled``, counted failed). A settled batch: 400 ``"batch status does not allow cancel"``.
  ``Faults.batch_expire``, or ``@@expire`` in ``metadata.ds_name``, makes the batch ``expired`` after half of its
  lines: they are in the output file, the rest are in no file.
* Settling writes the files with the lines in reverse order of the input (match by ``custom_id``). A line:
  ``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}``. Chat lines are answered
  by the reply rules above, read from the Chat request: the prompt is the last user message's text, system
  messages are the instructions, assistant ``tool_calls`` and ``tool`` messages are function calls and their
  outputs, ``max_tokens`` caps the answer (``finish_reason "length"``), thinking adds
  ``message.reasoning_content`` and ``usage.completion_tokens_details.reasoning_tokens``, ``@@call=NAME`` with a
  function tool gives ``tool_calls`` (``content ""``, ``finish_reason "tool_calls"``). Usage: prompt = words of
  every message (min 1), completion = answer + reasoning + arguments words, ``cached_tokens`` 0.
  ``@@fail`` puts the line in the error file (500 ``InternalError``; ``@@fail=400``: 400 ``InvalidParameter``);
  ``@@fail-inside`` writes a 500 line into the OUTPUT file, counted neither completed nor failed (as observed
  live). A line without a ``messages`` array fails in the error file (400). ``batch-test-model`` on ds-test
  answers ``"This is a test result."`` (no role) with usage 20/6/26; embeddings lines get eight numbers per text.
"""

from __future__ import annotations

from qwen_cli.emulator.faults import Faults
from qwen_cli.emulator.replies import ANSI_SAMPLE, MARKDOWN_SAMPLE, x_lines
from qwen_cli.emulator.server import Emulator, serve_forever

__all__ = ["ANSI_SAMPLE", "MARKDOWN_SAMPLE", "Emulator", "Faults", "serve_forever", "x_lines"]
