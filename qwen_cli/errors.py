"""The exception tree and the exit codes; imports nothing from the package.

    QwenError                      exit 1 unless a subclass says otherwise
     ├── UsageError                exit 2  bad flags, input, files, config; raised before any network
     ├── AuthError                 exit 3  missing key, 401, 403
     ├── ApiError                  exit 1  the API refused or failed the request (4xx, status failed, error event)
     ├── TransientError            exit 4  network, timeout, 429, 5xx, rate limit: after the retries ran out
     │    └── StreamCutError       exit 4  a stream ended before its terminal event
     ├── ToolCallsPending          exit 5  the model asked for function calls that qwen did not run
     ├── OutputError               exit 6  stdout could not be written (disk full, I/O error); not a closed pipe
     ├── InputLeftError            exit 7  piped input arrived after qwen had answered without it
     ├── ItemsFailed               exit 8  a batch ran, and some of its items failed (their lines say why)
     └── NotSettled                exit 9  a provider batch job has not settled yet: nothing to fetch

Every error carries one human line (`message`) and, when the server said so, its `code`, `request_id`
and HTTP `status`. The cli's error boundary turns them into that one line on stderr and the exit code; nothing else does.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    API_ERROR = 1
    USAGE = 2
    AUTH = 3
    TRANSIENT = 4
    TOOL_CALLS = 5
    OUTPUT = 6
    INPUT_LEFT = 7
    ITEMS_FAILED = 8
    NOT_SETTLED = 9
    INTERRUPTED = 130


class QwenError(Exception):
    exit_code: ExitCode = ExitCode.API_ERROR
    kind: str = "api_error"
    # In -o json the error is written to stdout too, unless stdout already holds what the script needs.
    json_on_stdout: bool = True
    # What the client learnt of a failed request, for a caller that retries on its own (`qwen batch run`): whether
    # another attempt may help, whether it was a rate limit, and the server's Retry-After in seconds.
    retryable: bool = False
    rate_limited: bool = False
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.status = status

    def line(self) -> str:
        """The one line shown to the user: the message, then the server's code and request id when known."""
        extras = []
        if self.status is not None:
            extras.append(f"HTTP {self.status}")
        if self.code:
            extras.append(f"code {self.code}")
        if self.request_id:
            extras.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(extras)})" if extras else self.message

    def to_json(self) -> dict[str, Any]:
        """The `{"error": {...}}` document written to stdout in `-o json` mode."""
        error: dict[str, Any] = {"type": self.kind, "message": self.message, "exit_code": int(self.exit_code)}
        for key in ("code", "request_id", "status"):
            value = getattr(self, key)
            if value is not None:
                error[key] = value
        return {"error": error}


class UsageError(QwenError):
    exit_code = ExitCode.USAGE
    kind = "usage_error"


class AuthError(QwenError):
    exit_code = ExitCode.AUTH
    kind = "auth_error"


class ApiError(QwenError):
    exit_code = ExitCode.API_ERROR
    kind = "api_error"


class TransientError(QwenError):
    exit_code = ExitCode.TRANSIENT
    kind = "transient_error"


class StreamCutError(TransientError):
    """A stream that ended before its terminal event. Once text had arrived (`kept`), the line says where that
    text is: on stdout, or, in `-o json`, in the error document itself, with the response's id."""

    kind = "stream_cut"
    response_id: str | None = None
    partial_text: str | None = None

    def __init__(self, message: str, *, kept: bool = False, **details: Any) -> None:
        super().__init__(f"{message}; the text so far is kept" if kept else message, **details)
        self.cause = message if kept else None

    def in_document(self) -> None:
        """In `-o json` stdout holds only the error document: the partial text travels in it."""
        if self.cause is not None:
            self.message = f"{self.cause}; the text so far is in the JSON document (partial_text)"

    def to_json(self) -> dict[str, Any]:
        document = super().to_json()
        if self.response_id is not None:
            document["error"]["response_id"] = self.response_id
        if self.partial_text is not None:
            document["error"]["partial_text"] = self.partial_text
        return document


class ToolCallsPending(QwenError):
    """Not a failure of qwen's: the answer is function calls, printed so a script can answer them."""

    exit_code = ExitCode.TOOL_CALLS
    kind = "tool_calls"
    json_on_stdout = False  # the response on stdout carries the calls


class OutputError(QwenError):
    """Writing the answer to stdout failed (a full disk, an I/O error). A reader that closed the pipe is not
    this: that ends qwen quietly with exit 0, as `head` expects."""

    exit_code = ExitCode.OUTPUT
    kind = "output_error"
    json_on_stdout = False  # stdout is what failed
    response_id: str | None = None  # the response whose answer could not be written, when there was one


class InputLeftError(QwenError):
    """stdin stayed silent past its grace period, qwen answered without it, and then data arrived: the answer
    is printed, but material the user piped was never sent, so this run must not look like a success."""

    exit_code = ExitCode.INPUT_LEFT
    kind = "input_left"
    json_on_stdout = False  # stdout already holds the answer


class ItemsFailed(QwenError):
    """`qwen batch`: the run went through, but some items failed after their retries; each one's result line
    says why, and rerunning the same command runs only those again."""

    exit_code = ExitCode.ITEMS_FAILED
    kind = "items_failed"
    json_on_stdout = False  # stdout (or -O) holds the result lines


class NotSettled(QwenError):
    """`qwen batch fetch` of a job the provider has not finished: try again later (a script can wait on exit 9)."""

    exit_code = ExitCode.NOT_SETTLED
    kind = "not_settled"
