"""qwen: a command-line client for the DashScope (Model Studio) Responses API. Version only; imports nothing."""

__version__ = "0.1.0"
