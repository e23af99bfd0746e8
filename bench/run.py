"""qwen's performance bench (issues 6 and 14): whole processes, timed against references in the same run.

    .venv/bin/python bench/run.py [--runs N] [--only GOAL ...]

Each goal's commands run interleaved (A, B, C, A, B, C, ...) after one untimed warm-up each; the table shows
medians of N runs (default 7), the peak RSS of the child (os.wait4), ratios and each goal's verdict. The
emulator and the time-to-first-token server run in their own processes on 127.0.0.1. llm, shell_gpt and the
openai SDK are measured when found next to this interpreter or on PATH, and skipped with a note otherwise.
Goals 7 to 9 (`qwen batch run`) talk to emulators of their own that wait before every reply, and run fewer
rounds (goal 7 at most 3, goal 8 one without warm-up), as one of their rounds takes from seconds to minutes.
Progress goes to stderr, the Markdown table to stdout. Every process started here is stopped at the end,
also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import fcntl
import http.client
import json
import os
import platform
import pty
import re
import selectors
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
GOAL_NAMES = {
    **{"1": "start", "2": "ask", "3": "stream", "4": "pretty", "5": "memory", "6": "ttft"},
    **{"7": "batch", "8": "xargs", "9": "resume"},
}
WORDS, MORE_WORDS = 20_000, 40_000
ASK_PROMPT = "hello"
RUN_TIMEOUT = 60.0  # seconds one command may take before it is killed and the bench fails
COLUMNS, LINES = 100, 40
MIB = 1024  # ru_maxrss is in KiB on Linux

Check = Callable[[bytes], bool]


class BenchError(Exception):
    """A command the bench depends on failed: the message says which and shows its stderr."""


# ----------------------------------------------------------------------------------------- processes


STARTED: list[subprocess.Popen] = []  # servers, and the spawners of measured commands (each leads its own group)


def popen(argv: list[str], **kwargs: object) -> subprocess.Popen:
    proc = subprocess.Popen(argv, **kwargs)  # type: ignore[call-overload]
    STARTED.append(proc)
    return proc


def stop_all() -> None:
    """Stop every process this bench started (with a measured command, its whole group) by its own id."""
    for proc in STARTED:
        if proc.returncode is None and proc.poll() is None:
            stop(proc, signal.SIGTERM)
    for proc in STARTED:
        if proc.returncode is None:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                stop(proc, signal.SIGKILL)
                proc.wait(timeout=3)


def stop(proc: subprocess.Popen, signal_number: int) -> None:
    try:
        if getattr(proc, "leads_group", False):
            os.killpg(proc.pid, signal_number)
        else:
            proc.send_signal(signal_number)
    except ProcessLookupError:
        pass


@dataclass
class Run:
    seconds: float  # from spawning the command to reaping it, timed by spawn_child.py
    rss_kib: int
    cpu: float  # user + system seconds of the command
    returncode: int
    out: bytes
    err: bytes
    first_byte: float | None  # time.monotonic() when the first stdout byte reached the harness
    ttft: float | None = None  # seconds from the server writing the first delta to first_byte


def spawn(python: str, argv: list[str], env: dict[str, str], **streams: object) -> tuple[subprocess.Popen, int]:
    """Start `argv` under spawn_child.py in a new process group; returns the spawner and its report's read end."""
    report_read, report_write = os.pipe()
    try:
        proc = popen(
            [python, "-S", str(BENCH / "spawn_child.py"), str(report_write), *argv],
            pass_fds=(report_write,),
            env=env,
            start_new_session=True,
            **streams,
        )
    except BaseException:
        os.close(report_read)
        raise
    finally:
        os.close(report_write)
    proc.leads_group = True  # type: ignore[attr-defined]
    return proc, report_read


def reap(proc: subprocess.Popen, report_read: int) -> tuple[float, int, float, int]:
    """(seconds, peak RSS KiB, CPU seconds, exit code) of the measured command, once its spawner has exited."""
    code = proc.wait()
    with os.fdopen(report_read, "rb") as report:
        fields = report.read().split()
    if len(fields) != 3:
        return 0.0, 0, 0.0, code or 1
    return float(fields[0]), int(fields[1]), float(fields[2]), code


@contextmanager
def watchdog(proc: subprocess.Popen, timeout: float) -> Iterator[None]:
    timer = threading.Timer(timeout, stop, (proc, signal.SIGKILL))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def run_piped(python: str, argv: list[str], env: dict[str, str], timeout: float = RUN_TIMEOUT) -> Run:
    """One whole process with stdout and stderr on pipes, both drained as they fill."""
    streams = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc, report = spawn(python, argv, env, **streams)
    with watchdog(proc, timeout):
        out, err, first_byte = drain(proc.stdout.fileno(), proc.stderr.fileno())
        seconds, rss, cpu, code = reap(proc, report)
    proc.stdout.close()
    proc.stderr.close()
    return Run(seconds, rss, cpu, code, out, err, first_byte)


def drain(out_fd: int, err_fd: int) -> tuple[bytes, bytes, float | None]:
    chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
    first_byte = None
    with selectors.DefaultSelector() as selector:
        selector.register(out_fd, selectors.EVENT_READ)
        selector.register(err_fd, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                data = os.read(key.fd, 65536)
                if key.fd == out_fd and data and first_byte is None:
                    first_byte = time.monotonic()
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
    return b"".join(chunks[out_fd]), b"".join(chunks[err_fd]), first_byte


def run_pty(python: str, argv: list[str], env: dict[str, str], timeout: float = RUN_TIMEOUT) -> Run:
    """One whole process on a pseudo-terminal (stdin, stdout and stderr), its output read fully until EOF."""
    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        proc, report = spawn(python, argv, env, stdin=slave, stdout=slave, stderr=slave)
    finally:
        os.close(slave)
    chunks = []
    with watchdog(proc, timeout):
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every copy of the slave side is closed
                break
            if not data:
                break
            chunks.append(data)
        seconds, rss, cpu, code = reap(proc, report)
    os.close(master)
    return Run(seconds, rss, cpu, code, b"".join(chunks), b"", None)


# ------------------------------------------------------------------------------------------- servers


def read_line(stream: object, timeout: float) -> str:
    fd = stream.fileno()  # type: ignore[attr-defined]
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise BenchError(f"no line from a helper server within {timeout:g} s")
    return stream.readline().decode().strip()  # type: ignore[attr-defined]


EMULATOR = "from qwen_cli.emulator import serve_forever; serve_forever('127.0.0.1', 0, None, None, lambda line: print(line, flush=True))"


def start_emulator(python: str, env: dict[str, str]) -> str:
    """qwen's emulator on a free port in its own process (without the CLI around it); returns its base URL."""
    proc = popen([python, "-c", EMULATOR], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    line = read_line(proc.stdout, 15)
    if not line.startswith("Emulator listening on "):
        raise BenchError(f"the emulator did not start: {line!r}")
    return line.removeprefix("Emulator listening on ")


def emulator_control(base_url: str, method: str, path: str, body: object = None) -> object:
    """A call to the emulator's control endpoints (/__emulator/..., at the root of its origin, without a key)."""
    origin = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(origin.hostname or "127.0.0.1", origin.port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body).encode()
        connection.request(method, path, payload, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        data = reply.read()
    finally:
        connection.close()
    if reply.status != 200:
        raise BenchError(f"the emulator refused {method} {path}: {reply.status} {data[:200]!r}")
    return json.loads(data)


def start_slow_emulator(python: str, env: dict[str, str], latency: float) -> str:
    """An emulator of its own that waits `latency` seconds before every reply (fault first_event_delay), so the
    other goals' emulator stays fast and each goal's request log holds only its own requests."""
    base_url = start_emulator(python, env)
    emulator_control(base_url, "POST", "/__emulator/faults", {"first_event_delay": latency})
    return base_url


class TtftServer:
    """bench/ttft_server.py in its own process; `stamp()` is when it wrote the first delta of the last request."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        self.proc = popen(
            [python, str(BENCH / "ttft_server.py")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        line = read_line(self.proc.stdout, 15)
        if not line.startswith("listening "):
            raise BenchError(f"the time-to-first-token server did not start: {line!r}")
        self.base_url = line.removeprefix("listening ")

    def stamp(self) -> float:
        return float(read_line(self.proc.stdout, 5))


# ------------------------------------------------------------------------------------------ commands


@dataclass(frozen=True)
class Command:
    label: str
    argv: tuple[str, ...]
    check: Check
    pty: bool = False
    optional: bool = False  # a third-party tool: a failure skips it with a note instead of ending the bench
    ttft: TtftServer | None = None
    env: tuple[tuple[str, str], ...] = ()  # variables added to the bench's environment for this command
    timeout: float = RUN_TIMEOUT
    prepare: Callable[[], None] | None = None  # called before every run (a batch run starts without its results file)


@dataclass
class Samples:
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.seconds)

    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    def peak_mib(self) -> float:
        return max(self.rss_kib) / MIB


def words_check(count: int) -> Check:
    return lambda out: out.startswith(b"w1 w2 ") and out.rstrip().endswith(b" w%d" % count)


def jsonl_check(out: bytes) -> bool:
    lines = out.splitlines()
    return len(lines) > WORDS and b'"response.completed"' in lines[-1]


def json_check(out: bytes) -> bool:
    return json.loads(out).get("status") == "completed"


def equals(expected: bytes) -> Check:
    return lambda out: out == expected


def contains(*parts: bytes) -> Check:
    return lambda out: all(part in out for part in parts)


@dataclass
class Tools:
    """Where each client lives; third-party ones are None when not installed."""

    python: str
    qwen: str
    llm: str | None
    sgpt: str | None
    openai_python: str | None

    @classmethod
    def find(cls) -> Tools:
        qwen = beside_or_on_path("qwen")
        if qwen is None:
            raise BenchError("no `qwen` next to this interpreter or on PATH: run .venv/bin/python bench/run.py")
        llm, sgpt = beside_or_on_path("llm"), beside_or_on_path("sgpt")
        return cls(interpreter_of(qwen) or sys.executable, qwen, llm, sgpt, openai_interpreter(llm, sgpt))


def beside_or_on_path(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name)


def interpreter_of(script: str | None) -> str | None:
    """The interpreter named by a console script's #! line."""
    if script is None:
        return None
    with open(script, "rb") as handle:
        first = handle.readline().decode(errors="replace").strip()
    path = first[2:].strip() if first.startswith("#!") else ""
    return path if path and " " not in path and os.access(path, os.X_OK) else None


def openai_interpreter(*scripts: str | None) -> str | None:
    """This interpreter if it has the openai SDK, else the one behind llm or sgpt (both depend on it)."""
    for python in (sys.executable, *(interpreter_of(script) for script in scripts)):
        if python and subprocess.run([python, "-c", "import openai"], capture_output=True, timeout=60).returncode == 0:
            return python
    return None


# ----------------------------------------------------------------------------------------- the bench


@dataclass
class Verdict:
    goal: str
    measured: str
    limit: str
    passed: bool | None  # None: not measured (skipped)

    @property
    def word(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]


class Bench:
    def __init__(self, runs: int, tools: Tools, workdir: Path) -> None:
        self.runs, self.tools = runs, tools
        self.notes: list[str] = []
        self.sections: list[str] = []
        self.verdicts: list[Verdict] = []
        self.memory: dict[str, Samples] = {}  # streaming runs of goals 3 and 4, reused by goal 5
        self.env = isolated_env(workdir)
        self.workdir = workdir
        self.neighbours: str | None = (
            None  # where click and pygments were installed for goal 2; "" if they could not be
        )
        self.env["QWEN_BASE_URL"] = self.base_url = start_emulator(tools.python, self.env)
        self.slow_emulators: dict[float, str] = {}  # reply latency -> base URL, for goals 7 and 8
        byte_compile(tools.python)
        self.configure_llm()
        self.note_missing_tools()

    def note_missing_tools(self) -> None:
        tools = self.tools
        for tool, name in (
            (tools.llm, "llm"),
            (tools.sgpt, "shell_gpt (sgpt)"),
            (tools.openai_python, "the openai SDK"),
        ):
            if tool is None:
                self.notes.append(f"{name} is not installed next to this interpreter or on PATH: skipped")
        if tools.sgpt:
            self.notes.append(
                "shell_gpt speaks only Chat Completions, which the emulator does not serve: start-up only"
            )

    def configure_llm(self) -> None:
        """llm reaches the emulator as an OpenAI-compatible extra model that speaks the Responses API."""
        user_dir = Path(self.env["LLM_USER_PATH"])
        user_dir.mkdir(parents=True, exist_ok=True)
        (user_dir / "extra-openai-models.yaml").write_text(
            f'- model_id: bench-qwen\n  model_name: qwen-plus\n  api_base: "{self.base_url}"\n'
            "  api_key_name: bench\n  responses: true\n"
        )
        (user_dir / "keys.json").write_text('{"bench": "sk-bench"}\n')

    def slow_emulator(self, latency: float) -> str:
        if latency not in self.slow_emulators:
            self.slow_emulators[latency] = start_slow_emulator(self.tools.python, self.env, latency)
        return self.slow_emulators[latency]

    # -- measuring

    def measure(
        self, title: str, commands: list[Command], rounds: int | None = None, warm: bool = True
    ) -> dict[str, Samples]:
        """One warm-up each (unless `warm` is False), then `rounds` (default `runs`) interleaved rounds; optional
        commands that fail are dropped with a note."""
        kept = [command for command in commands if not warm or self.warm_up(command)]
        samples = {command.label: Samples() for command in kept}
        rounds = rounds or self.runs
        for round_number in range(1, rounds + 1):
            progress(f"{title}: round {round_number}/{rounds}")
            for command in kept:
                self.record(command, samples[command.label])
        return samples

    def warm_up(self, command: Command) -> bool:
        try:
            self.execute(command)
        except BenchError as error:
            if not command.optional:
                raise
            self.notes.append(f"{command.label}: skipped, it failed here ({error})")
            return False
        return True

    def record(self, command: Command, samples: Samples) -> None:
        run = self.execute(command)
        samples.seconds.append(run.seconds)
        samples.rss_kib.append(run.rss_kib)
        samples.cpu.append(run.cpu)
        if run.ttft is not None:
            samples.ttft.append(run.ttft)

    def execute(self, command: Command) -> Run:
        if command.prepare is not None:
            command.prepare()
        run = (run_pty if command.pty else run_piped)(
            self.tools.python, list(command.argv), {**self.env, **dict(command.env)}, command.timeout
        )
        if run.returncode != 0 or not command.check(run.out):
            detail = (run.err or run.out)[-400:].decode(errors="replace").strip()
            raise BenchError(f"`{command.label}` failed (exit {run.returncode}): {detail or 'unexpected output'}")
        if command.ttft is not None and run.first_byte is not None:
            run.ttft = run.first_byte - command.ttft.stamp()
        return run

    # -- reporting

    def table(self, title: str, samples: dict[str, Samples], reference: str, extra: list[str] | None = None) -> None:
        base = samples[reference].median()
        rows = [
            f"### {title}",
            "",
            "| command | median | ratio | CPU (median) | peak RSS |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, sample in samples.items():
            ratio = "1.00× (reference)" if label == reference else f"{sample.median() / base:.2f}×"
            rows.append(
                f"| `{label}` | {ms(sample.median())} | {ratio} | {ms(sample.median_cpu())} | {sample.peak_mib():.1f} MiB |"
            )
        self.sections.append("\n".join(rows + (extra or []) + [""]))

    def judge(self, goal: str, value: float | None, limit: float, at_most: bool = True, unit: str = "×") -> None:
        bound = f"{'≤' if at_most else '≥'} {limit:g}{unit}"
        if value is None:
            self.verdicts.append(Verdict(goal, "—", bound, None))
            return
        passed = value <= limit if at_most else value >= limit
        self.verdicts.append(Verdict(goal, f"{value:.2f}{unit}", bound, passed))

    def ratio(self, samples: dict[str, Samples], label: str, reference: str) -> float | None:
        if label not in samples or reference not in samples:
            return None
        return samples[label].median() / samples[reference].median()

    def report(self) -> str:
        header = (
            f"{versions(self.tools.python)} · Python {platform.python_version()} · {platform.system()} · "
            f"{os.cpu_count()} cores · medians of {self.runs} whole-process runs per command, interleaved, "
            "after one warm-up each · servers in their own processes on 127.0.0.1"
        )
        verdicts = ["### Goals", "", "| goal | measured | limit | verdict |", "|---|---:|---:|---|"]
        verdicts += [f"| {v.goal} | {v.measured} | {v.limit} | {v.word} |" for v in self.verdicts]
        notes = ["", "Notes:", *(f"- {note}" for note in self.notes)] if self.notes else []
        command = "Measured with `.venv/bin/python bench/run.py` (see `--help`; the tables are Markdown)."
        return "\n".join([command, "", header, "", *self.sections, *verdicts, *notes]) + "\n"

    # -- commands

    def qwen(self, *args: str, check: Check, pty: bool = False) -> Command:
        label = " ".join(("qwen", *args)) + (" (pty)" if pty else "")
        return Command(label, (self.tools.qwen, *args), check, pty)

    def baseline(self, mode: str, prompt: str, check: Check, base_url: str | None = None) -> Command:
        argv = (self.tools.python, str(BENCH / "baseline_client.py"), mode, base_url or self.base_url, prompt)
        return Command(f"baseline {mode} {prompt}", argv, check)

    def openai_sdk(self, mode: str, prompt: str, check: Check) -> list[Command]:
        if self.tools.openai_python is None:
            return []
        argv = (self.tools.openai_python, str(BENCH / "openai_client.py"), mode, self.base_url, prompt)
        return [Command(f"openai SDK {mode} {prompt}", argv, check, optional=True)]

    def qwen_beside_neighbours(self, *args: str, check: Check) -> list[Command]:
        """qwen where click and pygments can be imported too (llm and many tools bring them): httpx then wants to
        load its own command-line program, which qwen keeps off its path. Installed once into the bench's temp
        dir and put on PYTHONPATH; skipped with a note when they cannot be installed here."""
        if self.neighbours is None:
            target = self.workdir / "neighbours"
            pip = [
                self.tools.python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(target),
                "click",
                "pygments",
            ]
            installed = subprocess.run(pip, capture_output=True, timeout=600).returncode == 0
            self.neighbours = str(target) if installed else ""
            if not installed:
                self.notes.append(
                    "click and pygments could not be installed into the bench's temp dir: the neighbours case is skipped"
                )
        if not self.neighbours:
            return []
        label = " ".join(("qwen", *args)) + " (click and pygments installed)"
        return [Command(label, (self.tools.qwen, *args), check, env=(("PYTHONPATH", self.neighbours),))]

    def llm(self, *args: str, check: Check) -> list[Command]:
        if self.tools.llm is None:
            return []
        return [Command(" ".join(("llm", *args)), (self.tools.llm, *args), check, optional=True)]


def byte_compile(python: str) -> None:
    """qwen as pip installs it is byte-compiled; an editable checkout under PYTHONDONTWRITEBYTECODE never is, and
    would pay for compiling every module on every run. Compile it once, so every client is measured as installed."""
    script = "import compileall, os, qwen_cli; compileall.compile_dir(os.path.dirname(qwen_cli.__file__), quiet=1)"
    subprocess.run([python, "-c", script], capture_output=True, timeout=120)


def versions(python: str) -> str:
    """qwen's version and those of its libraries, as qwen's interpreter sees them."""
    script = (
        "import importlib.metadata as m\n"
        "def v(name):\n"
        "    try: return m.version(name)\n"
        "    except m.PackageNotFoundError: return 'absent'\n"
        "print(' '.join(f'{n} {v(n)}' for n in ('qwen-cli', 'typer', 'httpx', 'rich', 'pydantic')))"
    )
    found = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=60).stdout.split()
    pairs = dict(zip(found[::2], found[1::2]))
    return (
        f"qwen {pairs.pop('qwen-cli', '?')} (" + ", ".join(f"{name} {version}" for name, version in pairs.items()) + ")"
    )


def isolated_env(workdir: Path) -> dict[str, str]:
    """This environment without Python, qwen or client settings, with HOME and XDG dirs in the bench's temp dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "QWEN_", "DASHSCOPE_", "OPENAI_", "LLM_", "XDG_"))
    }
    env.pop("NO_COLOR", None)
    for name, sub in (
        ("HOME", "home"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
        ("LLM_USER_PATH", "llm"),
    ):
        env[name] = str(workdir / sub)
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    env.update(DASHSCOPE_API_KEY="sk-bench", OPENAI_API_KEY="sk-bench", COLUMNS=str(COLUMNS), LINES=str(LINES))
    env.setdefault("TERM", "xterm-256color")
    env.setdefault("LANG", "C.UTF-8")
    return env


# -------------------------------------------------------------------------------------------- goals


# Shell completion requests join goal 1 with the same 6x limit as --version and --help: one per shell, covering
# option names, values shipped in the package, the local history (SQLite) and presets (the priciest: files on disk).
COMPLETIONS = (
    ("bash", "qwen stream --ou", b"--output\n"),
    ("zsh", "qwen ask -m qwen3.8-m", b'"qwen3.8-max"'),
    ("fish", "qwen continue ", b"\nresp_"),
    ("zsh", "qwen ask -p ", b'"bench"'),
)


def completion_commands(bench: Bench) -> list[Command]:
    commands = []
    for shell, line, expected in COMPLETIONS:
        if shell == "bash":
            env = (("COMP_WORDS", line), ("COMP_CWORD", str(len(line.split(" ")) - 1)))
        else:
            env = (("_TYPER_COMPLETE_ARGS", line), ("_TYPER_COMPLETE_FISH_ACTION", "get-args"))
        label = f"qwen completion ({shell}): {line.strip()}"
        commands.append(
            Command(label, (bench.tools.qwen,), contains(expected), env=(("_QWEN_COMPLETE", f"complete_{shell}"), *env))
        )
    return commands


def prepare_completions(bench: Bench) -> None:
    """Something to complete: a user preset, and a response in the local history."""
    presets = Path(bench.env["XDG_CONFIG_HOME"]) / "qwen" / "presets"
    presets.mkdir(parents=True, exist_ok=True)
    (presets / "bench.yaml").write_text("description: the bench's preset\nmodel: qwen-plus\n")
    bench.execute(bench.qwen("ask", "-o", "text", ASK_PROMPT, check=contains(ASK_PROMPT.encode())))


def goal_start(bench: Bench) -> None:
    tools = bench.tools
    prepare_completions(bench)
    commands = [
        Command("python -c pass", (tools.python, "-c", "pass"), equals(b"")),
        bench.qwen("--version", check=contains(b"qwen ")),
        bench.qwen("--help", check=contains(b"Usage")),
        *completion_commands(bench),
        *bench.llm("--version", check=contains(b"llm")),
    ]
    if tools.sgpt:
        commands.append(Command("sgpt --version", (tools.sgpt, "--version"), contains(b"ShellGPT"), optional=True))
    if tools.openai_python:
        commands.append(
            Command(
                "python -c 'import openai'", (tools.openai_python, "-c", "import openai"), equals(b""), optional=True
            )
        )
    samples = bench.measure("1 start", commands)
    slot = [] if completion_commands(bench) else ["| completion requests | (slot reserved: not measured yet) | | | |"]
    bench.table("1. Start-up", samples, "python -c pass", slot)
    for flag in ("--version", "--help"):
        bench.judge(f"1 `qwen {flag}` / `python -c pass`", bench.ratio(samples, f"qwen {flag}", "python -c pass"), 6)
    for command in completion_commands(bench):
        bench.judge(f"1 `{command.label}` / `python -c pass`", bench.ratio(samples, command.label, "python -c pass"), 6)


def goal_ask(bench: Bench) -> None:
    answer = f"You said: {ASK_PROMPT}\n".encode()
    commands = [
        bench.baseline("ask", ASK_PROMPT, equals(answer)),
        bench.qwen("ask", "-o", "text", ASK_PROMPT, check=equals(answer)),
        *bench.qwen_beside_neighbours("ask", "-o", "text", ASK_PROMPT, check=equals(answer)),
        *bench.llm("-m", "bench-qwen", "--no-stream", ASK_PROMPT, check=equals(answer)),
        *bench.openai_sdk("ask", ASK_PROMPT, equals(answer)),
    ]
    samples = bench.measure("2 ask", commands)
    bench.table("2. `ask` against the emulator", samples, f"baseline ask {ASK_PROMPT}")
    qwen = f"qwen ask -o text {ASK_PROMPT}"
    bench.judge("2 `qwen ask -o text` / baseline", bench.ratio(samples, qwen, f"baseline ask {ASK_PROMPT}"), 3)
    beside = f"{qwen} (click and pygments installed)"
    if beside in samples:
        bench.judge(
            "2 `qwen ask -o text`, click and pygments installed / baseline",
            bench.ratio(samples, beside, f"baseline ask {ASK_PROMPT}"),
            3,
        )
    llm_label = f"llm -m bench-qwen --no-stream {ASK_PROMPT}"
    bench.judge("2 llm / `qwen ask -o text` (qwen faster by)", bench.ratio(samples, llm_label, qwen), 3, at_most=False)


def goal_stream(bench: Bench) -> None:
    prompt = f"@@words={WORDS}"
    commands = [
        bench.baseline("stream", prompt, words_check(WORDS)),
        bench.qwen("stream", "-o", "text", prompt, check=words_check(WORDS)),
        bench.qwen("stream", "-o", "jsonl", prompt, check=jsonl_check),
        *bench.openai_sdk("stream", prompt, words_check(WORDS)),
        *bench.llm("-m", "bench-qwen", prompt, check=words_check(WORDS)),
    ]
    samples = bench.measure("3 stream", commands)
    bench.table(f"3. `stream` of {WORDS:,} deltas through a pipe", samples, f"baseline stream {prompt}")
    for mode, limit in (("text", 2), ("jsonl", 2.5)):
        label = f"qwen stream -o {mode} {prompt}"
        bench.judge(
            f"3 `qwen stream -o {mode}` / baseline", bench.ratio(samples, label, f"baseline stream {prompt}"), limit
        )
    bench.memory.update(samples)


def goal_pretty(bench: Bench) -> None:
    prompt, longer = f"@@words={WORDS}", f"@@words={MORE_WORDS}"
    commands = [
        bench.qwen("stream", "-o", "text", prompt, check=words_check(WORDS)),
        bench.qwen("stream", "-o", "pretty", prompt, check=contains(b"w1 ", b"w%d" % WORDS), pty=True),
        bench.qwen("stream", "-o", "pretty", longer, check=contains(b"w1 ", b"w%d" % MORE_WORDS), pty=True),
    ]
    samples = bench.measure("4 pretty", commands)
    text, pretty, pretty_longer = (command.label for command in commands)
    bench.table(f"4. `stream -o pretty` under a pseudo-terminal ({COLUMNS}×{LINES})", samples, text)
    bench.judge(f"4 pretty {MORE_WORDS:,} / pretty {WORDS:,} deltas", bench.ratio(samples, pretty_longer, pretty), 2.3)
    bench.judge(f"4 pretty {WORDS:,} / `-o text` {WORDS:,}", bench.ratio(samples, pretty, text), 4)
    bench.memory.update({label: samples[label] for label in (text, pretty)})


def goal_memory(bench: Bench) -> None:
    """Peak RSS in every output mode; runs already made by goals 3 and 4 count, the rest are measured here."""
    prompt = f"@@words={WORDS}"
    commands = [
        bench.qwen("stream", "-o", "text", prompt, check=words_check(WORDS)),
        bench.qwen("stream", "-o", "jsonl", prompt, check=jsonl_check),
        bench.qwen("stream", "-o", "json", prompt, check=json_check),
        bench.qwen("stream", "-o", "pretty", prompt, check=contains(b"w%d" % WORDS), pty=True),
    ]
    missing = [command for command in commands if command.label not in bench.memory]
    if missing:
        bench.memory.update(bench.measure("5 memory", missing))
    rows = [
        f"### 5. Peak RSS while streaming {WORDS:,} deltas",
        "",
        "| command | peak RSS (max of runs) | median time |",
        "|---|---:|---:|",
    ]
    for command in commands:
        sample = bench.memory[command.label]
        rows.append(f"| `{command.label}` | {sample.peak_mib():.1f} MiB | {ms(sample.median())} |")
        bench.judge(f"5 peak RSS, `-o {command.argv[3]}`", sample.peak_mib(), 60, unit=" MiB")
    bench.sections.append("\n".join(rows + [""]))


def goal_ttft(bench: Bench) -> None:
    server = TtftServer(bench.tools.python, bench.env)
    env_url = server.base_url
    answer = b"Hello world\n"
    qwen = Command(
        "qwen stream -o text (ttft server)",
        (bench.tools.qwen, "stream", "--base-url", env_url, "-o", "text", "hi"),
        equals(answer),
        ttft=server,
    )
    baseline = Command(
        "baseline stream (ttft server)",
        (bench.tools.python, str(BENCH / "baseline_client.py"), "stream", env_url, "hi"),
        equals(answer),
        ttft=server,
    )
    samples = bench.measure("6 ttft", [baseline, qwen])
    rows = [
        "### 6. Time to first token: first delta written by the server → first byte on the client's stdout (pipe)",
        "",
        "| command | median | max | whole run (median) |",
        "|---|---:|---:|---:|",
    ]
    for label, sample in samples.items():
        rows.append(
            f"| `{label}` | {ms(statistics.median(sample.ttft))} | {ms(max(sample.ttft))} | {ms(sample.median())} |"
        )
    bench.sections.append("\n".join(rows + [""]))
    bench.judge(
        "6 first delta → qwen's stdout (median)", statistics.median(samples[qwen.label].ttft) * 1000, 20, unit=" ms"
    )


# Goals 7 to 9 (issue 14): many prompts through `qwen batch run`, against emulators that wait before every reply,
# so the wall time is set by the latency and the concurrency, as it is against the real service.
ITEMS, MORE_ITEMS = 1_000, 10_000
JOBS = 32
LATENCY = 0.2  # the fixed reply latency
# RSS does not depend on the latency (the same requests are in flight, only for less time): the 10,000-item run
# waits 20 ms per reply, so it takes seconds instead of a minute.
SHORT_LATENCY = 0.02
BATCH_ROUNDS = 3  # a round of goal 7 takes about 25 s here: at most 3 of them, whatever --runs says
BATCH_TIMEOUT = 300.0
LOOP_TIMEOUT = 1200.0  # the shell loop starts 1,000 processes: about 3 minutes on 2 cores


def prompt_of(number: int) -> str:
    return f"prompt {number}"


def write_items(path: Path, count: int) -> Path:
    """`count` items, one JSON object a line, each with its own id and prompt (the prompt names its item in the
    emulator's request log)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as items:
            for number in range(count):
                items.write(json.dumps({"id": f"item-{number}", "prompt": prompt_of(number)}) + "\n")
    return path


def result_ids(path: Path) -> Counter[str]:
    """How often each item id appears on a whole line of a results file with status completed (a torn last line
    is not counted, as the next run cuts it off; a failed line would be retried, so it does not count either)."""
    counts: Counter[str] = Counter()
    with path.open("rb") as results:
        for line in results:
            if line.endswith(b"\n"):
                value = json.loads(line)
                if value["status"] == "completed":
                    counts[value["id"]] += 1
    return counts


def results_check(path: Path, count: int) -> Check:
    """With -O the answers go to the file, not stdout: every item once, each completed."""

    def check(out: bytes) -> bool:
        ids = result_ids(path)
        return len(ids) == count and set(ids.values()) == {1}

    return check


def answers_check(count: int) -> Check:
    """The shell loop prints one answer per prompt, in the order they finish. Answers are found by their text, not by
    line: 32 processes share one pipe, and xargs does not group their output as GNU parallel does (a `qwen ask` writes
    a short answer and its newline at once; older versions did not, and a long answer is more than one write)."""
    expected = sorted(f"You said: {prompt_of(number)}".encode() for number in range(count))
    return lambda out: sorted(re.findall(rb"You said: prompt \d+", out)) == expected


def results_path(bench: Bench, count: int) -> Path:
    return bench.workdir / "batch" / f"out-{count}.jsonl"


def batch_command(bench: Bench, count: int, latency: float) -> Command:
    """`qwen batch run ITEMS -j 32 -O OUT` against the emulator with this latency, each run from no results file
    (a second run against the same file would skip every item)."""
    items = write_items(bench.workdir / "batch" / f"items-{count}.jsonl", count)
    out = results_path(bench, count)
    label = f"qwen batch run items-{count}.jsonl -j {JOBS} -O out.jsonl ({latency * 1000:g} ms replies)"
    return Command(
        label,
        (bench.tools.qwen, "batch", "run", str(items), "-j", str(JOBS), "-O", str(out)),
        results_check(out, count),
        env=(("QWEN_BASE_URL", bench.slow_emulator(latency)),),
        timeout=BATCH_TIMEOUT,
        prepare=lambda: out.unlink(missing_ok=True),
    )


def ideal_seconds(count: int, latency: float) -> float:
    """Every request waits `latency`, `JOBS` at a time, and nothing else costs anything."""
    return count * latency / JOBS


def goal_batch(bench: Bench) -> None:
    one, more = batch_command(bench, ITEMS, LATENCY), batch_command(bench, MORE_ITEMS, SHORT_LATENCY)
    rounds = min(bench.runs, BATCH_ROUNDS)
    samples = bench.measure("7 batch", [one, more], rounds)
    rows = [
        f"### 7. `qwen batch run`: {ITEMS:,} items at {LATENCY * 1000:g} ms per reply, and {MORE_ITEMS:,} at "
        f"{SHORT_LATENCY * 1000:g} ms (medians of {rounds})",
        "",
        "| command | median | ideal (items × latency / jobs) | ratio to ideal | CPU (median) | peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for command, count, latency in ((one, ITEMS, LATENCY), (more, MORE_ITEMS, SHORT_LATENCY)):
        sample, ideal = samples[command.label], ideal_seconds(count, latency)
        rows.append(
            f"| `{command.label}` | {ms(sample.median())} | {ms(ideal)} | {sample.median() / ideal:.2f}× "
            f"| {ms(sample.median_cpu())} | {sample.peak_mib():.1f} MiB |"
        )
    bench.sections.append("\n".join(rows + [""]))
    first, second = samples[one.label], samples[more.label]
    bench.judge(
        f"7 {ITEMS:,} items, -j {JOBS}: wall time / ideal", first.median() / ideal_seconds(ITEMS, LATENCY), 1.25
    )
    bench.judge(f"7 peak RSS, {ITEMS:,} items", first.peak_mib(), 80, unit=" MiB")
    bench.judge(f"7 peak RSS, {MORE_ITEMS:,} items / {ITEMS:,} items", second.peak_mib() / first.peak_mib(), 1.2)


def loop_command(bench: Bench, xargs: str, count: int) -> Command:
    """The shell loop a batch replaces: one `qwen ask` process per prompt, 32 at a time. The prompts go to xargs
    NUL-separated from a file (-0 -a), so no shell or quoting touches them."""
    prompts = bench.workdir / "batch" / f"prompts-{count}.bin"
    prompts.write_bytes(b"".join(prompt_of(number).encode() + b"\0" for number in range(count)))
    return Command(
        f"xargs -0 -P {JOBS} -n 1 qwen ask ({count:,} prompts, {LATENCY * 1000:g} ms replies)",
        (xargs, "-0", "-a", str(prompts), "-P", str(JOBS), "-n", "1", bench.tools.qwen, "ask"),
        answers_check(count),
        env=(("QWEN_BASE_URL", bench.slow_emulator(LATENCY)),),
        timeout=LOOP_TIMEOUT,
    )


def goal_xargs(bench: Bench) -> None:
    xargs = shutil.which("xargs")
    if xargs is None:
        bench.notes.append("xargs is not on PATH: goal 8 is skipped")
        bench.judge(f"8 xargs loop / `qwen batch run` ({ITEMS:,} items; batch faster by)", None, 5, at_most=False)
        return
    batch, loop = batch_command(bench, ITEMS, LATENCY), loop_command(bench, xargs, ITEMS)
    # One round, no warm-up: the loop takes minutes on 2 cores, a warm-up would double that, and its own first
    # processes warm the caches for the other 999. The margin is far wider than the noise between rounds.
    samples = bench.measure("8 xargs", [batch, loop], rounds=1, warm=False)
    bench.table(
        f"8. {ITEMS:,} prompts: `qwen batch run` against a shell loop of `qwen ask` (one round)", samples, batch.label
    )
    bench.judge(
        f"8 xargs loop / `qwen batch run` ({ITEMS:,} items; batch faster by)",
        bench.ratio(samples, loop.label, batch.label),
        5,
        at_most=False,
    )


@dataclass
class Resumed:
    """What goal 9 counted: the results file at the kill and after the rerun, and the requests the emulator got."""

    at_kill: set[str]  # ids with a whole, completed line in the file when the first run was killed
    final: Counter[str]  # completed lines per id after the rerun
    sent: Counter[str]  # requests per item id, both runs together
    rerun_seconds: float

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.final.values() if count > 1)

    @property
    def missing(self) -> int:
        return ITEMS - len(self.final)

    @property
    def resent_after_completing(self) -> int:
        return sum(1 for item_id in self.at_kill if self.sent[item_id] > 1)


def kill_halfway(bench: Bench, command: Command, out: Path) -> set[str]:
    """Start the command, SIGKILL its whole process group once about half the items have a line in `out`, and
    return the ids those lines hold."""
    proc, report = spawn(
        bench.tools.python,
        list(command.argv),
        {**bench.env, **dict(command.env)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(report)  # the killed run's time is not measured
    deadline = time.monotonic() + BATCH_TIMEOUT
    while lines_in(out) < ITEMS // 2:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc, signal.SIGKILL)
            raise BenchError(f"`{command.label}` ended or stalled before half its items were written")
        time.sleep(0.005)  # ~160 lines a second arrive: the kill lands within a line or two of half
    stop(proc, signal.SIGKILL)
    proc.wait()
    return set(result_ids(out))


def lines_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def sent_per_item(base_url: str) -> Counter[str]:
    """Requests to create a response, per item, from the emulator's request log (each prompt names its item)."""
    item_of = {prompt_of(number): f"item-{number}" for number in range(ITEMS)}
    log = emulator_control(base_url, "GET", "/__emulator/requests")
    assert isinstance(log, list)
    creates = [entry for entry in log if entry["method"] == "POST" and entry["path"].endswith("/responses")]
    # A request the kill cut off while it was being sent reaches the log with no readable body: it was never
    # answered, so it cannot have completed, and it names no item.
    creates = [entry for entry in creates if entry["body"] is not None]
    sent = Counter(item_of.get(str(entry["body"].get("input")), "unknown") for entry in creates)
    if "unknown" in sent or len(sent) < ITEMS:  # else a log that names no item would pass as "none sent twice"
        raise BenchError(
            f"the emulator's request log does not show every item sent: {len(creates)} requests, "
            f"{len(sent) - ('unknown' in sent)} items, {sent['unknown']} naming none"
        )
    return sent


def goal_resume(bench: Bench) -> None:
    # An emulator of its own: its request log then holds exactly the two runs of this goal.
    base_url = start_slow_emulator(bench.tools.python, bench.env, LATENCY)
    command = replace(batch_command(bench, ITEMS, LATENCY), env=(("QWEN_BASE_URL", base_url),))
    out = results_path(bench, ITEMS)
    progress("9 resume: a run killed halfway")
    out.unlink(missing_ok=True)
    at_kill = kill_halfway(bench, command, out)
    progress("9 resume: the same command again")
    rerun = bench.execute(replace(command, check=lambda out: True, prepare=None))  # the counts below judge it
    counted = Resumed(at_kill, result_ids(out), sent_per_item(base_url), rerun.seconds)
    report_resume(bench, counted)


def report_resume(bench: Bench, counted: Resumed) -> None:
    sent_twice = sum(1 for count in counted.sent.values() if count == 2)
    rows = [
        f"### 9. `qwen batch run` of {ITEMS:,} items ({LATENCY * 1000:g} ms replies, -j {JOBS}) killed with SIGKILL "
        "halfway, then rerun",
        "",
        "| items | lines in the file at the kill | rerun took | sent once | sent twice (in flight at the kill) "
        "| sent more often | missing from the results | duplicates in the results | sent again after their line was written |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {ITEMS:,} | {len(counted.at_kill)} | {ms(counted.rerun_seconds)} "
        f"| {sum(1 for count in counted.sent.values() if count == 1)} | {sent_twice} "
        f"| {sum(1 for count in counted.sent.values() if count > 2)} | {counted.missing} | {counted.duplicates} "
        f"| {counted.resent_after_completing} |",
        "",
    ]
    bench.sections.append("\n".join(rows))
    once = counted.missing == 0 and counted.duplicates == 0
    bench.verdicts.append(
        Verdict(
            "9 every item exactly once in the results after SIGKILL and a rerun",
            f"{counted.missing} missing, {counted.duplicates} duplicates",
            "0 and 0",
            once,
        )
    )
    bench.verdicts.append(
        Verdict(
            "9 items sent again after their line was in the file",
            str(counted.resent_after_completing),
            "0",
            counted.resent_after_completing == 0,
        )
    )


GOALS: dict[str, Callable[[Bench], None]] = {
    "start": goal_start,
    "ask": goal_ask,
    "stream": goal_stream,
    "pretty": goal_pretty,
    "memory": goal_memory,
    "ttft": goal_ttft,
    "batch": goal_batch,
    "xargs": goal_xargs,
    "resume": goal_resume,
}


# --------------------------------------------------------------------------------------------- main


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7)")
    choices = [*GOAL_NAMES, *GOAL_NAMES.values()]
    parser.add_argument(
        "--only",
        nargs="+",
        choices=choices,
        metavar="GOAL",
        help="goals to run, by number or name: " + ", ".join(f"{k} {v}" for k, v in GOAL_NAMES.items()),
    )
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 100:
        parser.error("--runs must be between 1 and 100")
    return args


def main() -> int:
    args = parse_args()
    selected = [GOAL_NAMES.get(goal, goal) for goal in (args.only or GOAL_NAMES.values())]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the children
    try:
        with tempfile.TemporaryDirectory(prefix="qwen-bench-") as workdir, stopping_children():
            bench = Bench(args.runs, Tools.find(), Path(workdir))
            for goal in GOAL_NAMES.values():
                if goal in selected:
                    GOALS[goal](bench)
            sys.stdout.write(bench.report())
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    return 0  # a FAIL is a finding to read, not an error of the bench


@contextmanager
def stopping_children() -> Iterator[None]:
    try:
        yield
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
