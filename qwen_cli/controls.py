"""Terminal control characters in text qwen did not write itself (model output, server messages, tool activity).

A reply, an error message or a tool argument must not be able to drive the user's terminal: pretty output and
every line qwen writes on stderr show control characters as visible symbols instead. Standard library only.
"""

from __future__ import annotations

# C0 and C1 control characters except tab and newline, shown as their Unicode control pictures (C1 as U+FFFD).
CONTROL_PICTURES = {code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\t\n"}
CONTROL_PICTURES[0x7F] = "\u2421"
CONTROL_PICTURES.update({code: "\ufffd" for code in range(0x80, 0xA0)})


def neutralise_controls(text: str) -> str:
    return text.translate(CONTROL_PICTURES)
