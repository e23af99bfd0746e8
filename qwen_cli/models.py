"""The models Model Studio serves through the Responses API: a product fact, offered by shell completion and
accepted by the emulator. Standard library only, no imports: the completion path reads it before anything loads.

From the protocol reference's model list (section 3.4): the newest list, the models another page adds, and the
older general names (`qwen-max`, `qwen-turbo`) the Batch pages still list. A model missing here is still sent
as given: the server, not qwen, decides what exists.
"""

from __future__ import annotations

NEWEST = (
    "qwen3.8-max",
    "qwen3.8-max-0902",
    "qwen3.8-flash",
    "qwen3.8-2.4t-a95b",
    "qwen3.8-27b",
    "qwen3.8-omni-flash",
    "qwen3.7-max",
    "qwen3.7-max-2026-05-20",
    "qwen3.7-max-2026-06-08",
    "qwen3.7-max-2026-05-17",
    "qwen3.7-max-preview",
    "qwen3-max",
    "qwen3-max-2026-01-23",
    "qwen3.7-plus",
    "qwen3.7-plus-2026-05-26",
    "qwen3.6-plus",
    "qwen3.6-plus-2026-04-02",
    "qwen3.5-plus",
    "qwen3.5-plus-2026-04-20",
    "qwen3.5-plus-2026-02-15",
    "qwen3.7-flash",
    "qwen3.7-flash-2026-07-15",
    "qwen3.6-flash",
    "qwen3.6-flash-2026-04-16",
    "qwen3.5-flash",
    "qwen3.5-flash-2026-02-23",
    "qwen3.6-35b-a3b",
    "qwen3.5-397b-a17b",
    "qwen3.5-122b-a10b",
    "qwen3.5-27b",
    "qwen3.5-35b-a3b",
    "deepseek-v4.1-flash",
    "deepseek-v4-pro",
    "deepseek-v4-pro-0813",
    "deepseek-v4-flash",
    "deepseek-v4-flash-0731",
    "glm-5.3",
    "glm-5.2",
    "kimi-k3",
)
ALSO_LISTED = (
    "qwen-plus",
    "qwen-flash",
    "qwen3-coder-plus",
    "qwen3-coder-flash",
    "qwen3.5-ocr",
    "qwen-plus-character",
    "qwen-flash-character",
    "qwen3-coder-next",
    "qwen-max",
    "qwen-turbo",
)
RESPONSES_MODELS = NEWEST + ALSO_LISTED

# Models that think unless `enable_thinking: false` says otherwise, with their dated variants.
THINKING_BY_DEFAULT = ("qwen3.5-plus", "qwen3.6-plus", "qwen3.7-plus", "qwen3.8-max", "qwen3.8-flash")


def thinks_by_default(model: str) -> bool:
    """Whether `model` thinks when a request says nothing: the models above and their dated variants."""
    return any(model == base or model.startswith(base + "-") for base in THINKING_BY_DEFAULT)
