"""Running the local programs bound to function tools (`run:` in a tools file): the only module that starts one.

Nothing here decides whether to run: the caller calls it only when the user passed --run-tools. A program gets
its argv exactly as written (never a shell), the call's arguments JSON on stdin, and the environment the caller
hands over (qwen's, less the key and tokens: a program is the model's agent); whatever goes wrong becomes the
text sent back to the model, so the conversation can go on.
"""

from __future__ import annotations

import codecs
import json
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

DEFAULT_TIMEOUT = 60.0
DEFAULT_OUTPUT_CAP = 100 * 1024  # bytes of stdout sent back: a model's context is the limit, not memory
STDERR_TAIL = 2000  # bytes of stderr quoted when a program fails: the end holds the error
CHUNK = 65536
ANNOUNCED_ARGUMENTS = 200  # characters of a call's arguments shown when it runs: enough to recognise it


@dataclass(frozen=True)
class ProgramEnvironment:
    """The environment a program receives: `base` less the `withheld` variables (the key, tokens)."""

    base: Mapping[str, str] = field(default_factory=dict, repr=False)  # values may be secrets: never in a repr
    withheld: frozenset[str] = frozenset()
    directory: str | None = None  # where the program runs: qwen's working directory (None: the process's own)

    def variables(self) -> dict[str, str]:
        return {name: value for name, value in self.base.items() if name not in self.withheld}


NO_ENVIRONMENT = ProgramEnvironment()  # the default: nothing of qwen's reaches a program unless the caller says so


@dataclass(frozen=True)
class ToolResult:
    output: str  # what the model receives: stdout, or an "error: ..." text
    ok: bool
    detail: str  # one line for the user: "exit status 0, 12 bytes", "timed out after 60 s", ...


class UnboundCalls(Exception):
    """The response asks for functions that have no `run:` binding, so nothing was run.

    `calls` holds every function_call item of the response (none of them ran); `names` the unbound names.
    The caller prints the calls and exits 5, exactly as it does without --run-tools.
    """

    def __init__(self, calls: tuple[dict[str, Any], ...], names: tuple[str, ...]) -> None:
        super().__init__(f"no program is bound to {', '.join(names)} (add run: [...] to its tools-file entry)")
        self.calls = calls
        self.names = names


class _Capture:
    """Drains a pipe on a thread, keeping the first `head` bytes and the last `tail` bytes and counting all.

    Draining to the end (rather than stopping at the cap) keeps a chatty program from blocking on a full pipe.
    """

    def __init__(self, pipe: IO[bytes], head: int = 0, tail: int = 0) -> None:
        self.head, self.tail, self.total = bytearray(), bytearray(), 0
        self._limits = (head, tail)
        self._thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self._thread.start()

    def _drain(self, pipe: IO[bytes]) -> None:
        head, tail = self._limits
        with pipe:
            while chunk := pipe.read1(CHUNK):  # type: ignore[attr-defined]  # Popen's pipes are BufferedReaders; typeshed says IO[bytes]
                self.total += len(chunk)
                if len(self.head) < head:
                    self.head += chunk[: head - len(self.head)]
                if tail:
                    self.tail = (self.tail + chunk)[-tail:]

    def join(self, timeout: float | None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


def run_tool(
    argv: tuple[str, ...],
    arguments_json: str,
    timeout: float = DEFAULT_TIMEOUT,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    environment: ProgramEnvironment = NO_ENVIRONMENT,
) -> ToolResult:
    """Run one bound program for one call. Never raises for the program's failures: they become the output."""
    if not argv:
        return failure("error: no program is bound to this function", "no program")
    try:
        process = start(argv, environment.variables(), environment.directory)
    except OSError as exc:
        return failure(f"error: cannot run {argv[0]}: {reason(exc)}", f"cannot run: {reason(exc)}")
    assert process.stdout is not None and process.stderr is not None  # both are pipes
    stdout = _Capture(process.stdout, head=output_cap + 1)
    stderr = _Capture(process.stderr, tail=STDERR_TAIL)
    feed(process, arguments_json.encode("utf-8"))
    if not finish(process, (stdout, stderr), timeout):
        return failure(f"error: the tool timed out after {timeout:g} s", f"timed out after {timeout:g} s")
    if process.returncode != 0:
        return failure(exit_error(process.returncode, bytes(stderr.tail)), exit_detail(process.returncode))
    return ToolResult(
        capped(bytes(stdout.head), stdout.total, output_cap), True, f"exit status 0, {stdout.total} bytes"
    )


def start(argv: tuple[str, ...], env: dict[str, str], directory: str | None = None) -> subprocess.Popen[bytes]:
    # A list and shell=False: the words are passed as they are, nothing in them is ever interpreted.
    # A session of its own makes the program the leader of a process group that a timeout can kill whole.
    posix = os.name == "posix"
    return subprocess.Popen(
        list(argv),
        shell=False,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Exactly the variables given, nothing added: a library (readline) may have added to the C environment.
        env=env,
        cwd=directory,
        start_new_session=posix,
        creationflags=0 if posix else getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
    )


def feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    """Write the arguments and close stdin, on a thread: a program that never reads must not block us."""

    stdin = process.stdin
    if stdin is None:
        return  # not started with stdin=PIPE: there is nothing to write to

    def write() -> None:
        try:
            with stdin:
                stdin.write(data)
        except (BrokenPipeError, OSError):
            pass  # the program exited or closed stdin without reading: its exit status tells the story

    threading.Thread(target=write, daemon=True).start()


def finish(process: subprocess.Popen[bytes], captures: tuple[_Capture, ...], timeout: float) -> bool:
    """Wait for the program and for its output pipes to close; False (everything killed) when time ran out.

    Waiting for the pipes too covers children the program left behind holding them open.
    """
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)
        done = all(capture.join(max(0.0, deadline - time.monotonic())) for capture in captures)
    except subprocess.TimeoutExpired:
        done = False
    if not done:
        kill_group(process)
        for capture in captures:
            capture.join(5.0)
    return done


def kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)  # the program and every child it started
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass  # already gone
    process.wait()


def capped(data: bytes, total: int, cap: int) -> str:
    if total <= cap:
        return data.decode("utf-8", errors="replace")
    # An incremental decoder drops a character cut in half at the cap instead of showing a replacement mark.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data[:cap], final=False)
    return f"{text}\n[output truncated: {cap} of {total} bytes]"


def exit_error(status: int, stderr: bytes) -> str:
    tail = stderr.decode("utf-8", errors="replace").strip()
    return f"error: {exit_detail(status)}: {tail}" if tail else f"error: {exit_detail(status)}"


def exit_detail(status: int) -> str:
    if status < 0:
        try:
            return f"killed by signal {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such program"
    if isinstance(exc, PermissionError):
        return "permission denied (is it executable?)"
    return exc.strerror or str(exc)


def failure(output: str, detail: str) -> ToolResult:
    return ToolResult(output=output, ok=False, detail=detail)


# ---------------------------------------------------------------------------------------------- calls


def run_calls(
    calls: Iterable[Mapping[str, Any]],
    bindings: Mapping[str, tuple[str, ...]],
    timeout: float = DEFAULT_TIMEOUT,
    cap: int = DEFAULT_OUTPUT_CAP,
    announce: Callable[[str], None] = lambda line: None,
    environment: ProgramEnvironment = NO_ENVIRONMENT,
) -> list[dict[str, Any]]:
    """Run each function_call item's program, in order, and return the function_call_output items for them.

    Calls from one response run one after another, in output order: user programs need not be safe to run
    concurrently. If any call has no binding, none runs and UnboundCalls is raised: half a round of outputs
    would leave the model's other calls unanswered.
    """
    items = [dict(call) for call in calls]
    unbound = tuple(dict.fromkeys(str(item.get("name")) for item in items if item.get("name") not in bindings))
    if unbound:
        raise UnboundCalls(tuple(items), unbound)
    return [run_call(item, bindings[str(item["name"])], timeout, cap, announce, environment) for item in items]


def run_call(
    call: Mapping[str, Any],
    argv: tuple[str, ...],
    timeout: float,
    cap: int,
    announce: Callable[[str], None],
    environment: ProgramEnvironment = NO_ENVIRONMENT,
) -> dict[str, Any]:
    name, call_id = call.get("name"), call.get("call_id")
    arguments = call.get("arguments")
    stdin_text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    announce(f"running {name} ({call_id}) with {clipped(stdin_text)}: {shlex.join(argv)}")
    result = run_tool(argv, stdin_text, timeout, cap, environment)
    if not result.ok:
        announce(f"{name} ({call_id}) failed: {result.detail}; the error text is sent to the model")
    return {"type": "function_call_output", "call_id": call_id, "output": result.output}


def clipped(arguments: str, limit: int = ANNOUNCED_ARGUMENTS) -> str:
    """The arguments as the announcement shows them: whole when short, else their start and their size."""
    return arguments if len(arguments) <= limit else f"{arguments[:limit]}… ({len(arguments)} characters)"
