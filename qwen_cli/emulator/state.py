"""The emulator's memory: stored responses, conversations, files, batches, the requests received and the faults in force, behind one lock."""

from __future__ import annotations

import copy
import threading
from typing import Any

from qwen_cli.emulator.faults import Faults


class EmulatorState:
    """Everything the server remembers; one lock guards it because handlers run in many threads."""

    def __init__(self, api_key: str | None) -> None:
        self.api_key = api_key
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.faults = Faults()
        self.remaining = self.faults.counters()
        self.requests: list[dict[str, Any]] = []
        self.responses: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}  # id -> {"object": the FileObject, "content": bytes}
        self.batches: dict[str, Any] = {}  # id -> batches.BatchJob

    def set_faults(self, faults: Faults) -> None:
        with self.lock:
            self.faults = faults
            self.remaining = faults.counters()

    def take(self, counter: str) -> bool:
        """Consume one unit of a fault budget; False when it is spent."""
        with self.lock:
            if self.remaining[counter] <= 0:
                return False
            self.remaining[counter] -= 1
            return True

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)

    def snapshot_requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.requests)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.responses.clear()
            self.conversations.clear()
            self.files.clear()
            self.batches.clear()
        self.set_faults(Faults())
