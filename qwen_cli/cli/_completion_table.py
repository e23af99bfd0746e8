"""Commands, options and values for shell completion, read by `completion` without typer.

Generated from the Typer app by `python -m qwen_cli.dev.generate`: do not edit; regenerate after changing a command or a flag.
"""

from typing import Any

MODELS = ('deepseek-v4-flash', 'deepseek-v4-flash-0731', 'deepseek-v4-pro', 'deepseek-v4-pro-0813', 'deepseek-v4.1-flash', 'glm-5.2', 'glm-5.3', 'kimi-k3', 'qwen-flash', 'qwen-flash-character', 'qwen-max', 'qwen-plus', 'qwen-plus-character', 'qwen-turbo', 'qwen3-coder-flash', 'qwen3-coder-next', 'qwen3-coder-plus', 'qwen3-max', 'qwen3-max-2026-01-23', 'qwen3.5-122b-a10b', 'qwen3.5-27b', 'qwen3.5-35b-a3b', 'qwen3.5-397b-a17b', 'qwen3.5-flash', 'qwen3.5-flash-2026-02-23', 'qwen3.5-ocr', 'qwen3.5-plus', 'qwen3.5-plus-2026-02-15', 'qwen3.5-plus-2026-04-20', 'qwen3.6-35b-a3b', 'qwen3.6-flash', 'qwen3.6-flash-2026-04-16', 'qwen3.6-plus', 'qwen3.6-plus-2026-04-02', 'qwen3.7-flash', 'qwen3.7-flash-2026-07-15', 'qwen3.7-max', 'qwen3.7-max-2026-05-17', 'qwen3.7-max-2026-05-20', 'qwen3.7-max-2026-06-08', 'qwen3.7-max-preview', 'qwen3.7-plus', 'qwen3.7-plus-2026-05-26', 'qwen3.8-2.4t-a95b', 'qwen3.8-27b', 'qwen3.8-flash', 'qwen3.8-max', 'qwen3.8-max-0902', 'qwen3.8-omni-flash')

COMMANDS: dict[tuple[str, ...], dict[str, Any]] = {
    (): {
        'commands': (
            ('ask', 'Send one prompt and print the answer once...'),
            ('stream', 'Send one prompt and print the answer as it...'),
            ('continue', 'Continue an earlier response (previous_response_id).'),
            ('emulator', 'Serve a local emulator of the API, to try qwen offline.'),
            ('batch', 'Many prompts at once, here or through the...'),
            ('history', 'The local history of responses (SQLite, in...'),
            ('response', 'Responses the server stores (7 days, unless --no-store).'),
            ('conversation', 'Conversations on the server, joined with...'),
            ('tools', 'Built-in tools, function tools, and checks of tools files.'),
            ('presets', 'Saved ways of asking: YAML presets for...'),
            ('config', 'The settings in effect and their sources; the config file.'),
        ),
        'options': (
            {'name': 'version', 'names': ('--version', '-V'), 'negations': (), 'help': 'Print the version and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'install_completion', 'names': ('--install-completion',), 'negations': (), 'help': 'Install completion for the current shell.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'show_completion', 'names': ('--show-completion',), 'negations': (), 'help': 'Show completion for the current shell, to copy it or customize the installation.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('ask',): {
        'commands': (
        ),
        'options': (
            {'name': 'continue_last', 'names': ('-c', '--continue'), 'negations': (), 'help': 'Continue the last response in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': 'Ask the way a saved YAML preset says (see qwen presets list).', 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'model', 'names': ('-m', '--model'), 'negations': (), 'help': 'Model id (default qwen-plus, or QWEN_MODEL).', 'nargs': 1, 'multiple': False, 'values': 'models', 'type': 'str', 'default': None},
            {'name': 'instructions', 'names': ('-s', '--instructions', '--system'), 'negations': (), 'help': 'System instructions for this turn.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'temperature', 'names': ('-t', '--temperature'), 'negations': (), 'help': 'Sampling temperature, in [0, 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'top_p', 'names': ('--top-p',), 'negations': (), 'help': 'Nucleus sampling, in (0, 1].', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'think', 'names': ('--think',), 'negations': ('--no-think',), 'help': 'Turn thinking on or off (enable_thinking).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'effort', 'names': ('--effort',), 'negations': (), 'help': 'Reasoning effort (reasoning.effort).', 'nargs': 1, 'multiple': False, 'values': (('none', None), ('minimal', None), ('low', None), ('medium', None), ('high', None), ('xhigh', None), ('max', None)), 'type': 'choice', 'default': None},
            {'name': 'max_output_tokens', 'names': ('--max-output-tokens',), 'negations': (), 'help': "Cap on the answer's tokens (at least 16).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'store', 'names': ('--store',), 'negations': ('--no-store',), 'help': 'Let the server keep the response for 7 days (it does by default).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'session_cache', 'names': ('--session-cache',), 'negations': ('--no-session-cache',), 'help': 'Server-side session cache for multi-turn (header x-dashscope-session-cache).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'conversation', 'names': ('--conversation',), 'negations': (), 'help': 'Add this turn to a conversation (conv_...).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'previous', 'names': ('--previous',), 'negations': (), 'help': 'Continue from this response id (previous_response_id).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'extra', 'names': ('--extra',), 'negations': (), 'help': 'A JSON object of raw body fields to merge in, for what is new.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'files', 'names': ('-f', '--file'), 'negations': (), 'help': 'Attach a text file with its name (repeatable; - is stdin).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'images', 'names': ('--image',), 'negations': (), 'help': 'Attach an image file or URL, or - for an image piped in (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'messages', 'names': ('--messages',), 'negations': (), 'help': 'A JSON or YAML file holding the complete input array.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'no_stdin', 'names': ('--no-stdin',), 'negations': (), 'help': 'Do not read piped stdin.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'stdin_wait', 'names': ('--stdin-wait',), 'negations': (), 'help': 'How long an idle stdin may stay silent when a prompt is given (default: 1 s; 10 s where it cannot be told who writes it; to its end in a pipeline).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'tool', 'names': ('--tool',), 'negations': (), 'help': 'A built-in tool: web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search (repeatable).', 'nargs': 1, 'multiple': True, 'values': (('web_search', 'Searches the web; the sources it cites are listed after the answer.'), ('web_extractor', 'Reads the pages web_search found and extracts what the question needs.'), ('code_interpreter', 'Writes and runs Python code in a sandbox; shows the code and its logs.'), ('web_search_image', 'Searches the web for images that match a description.'), ('image_search', 'Finds images similar to an image in the input.'), ('file_search', 'Searches a Model Studio knowledge base.')), 'type': 'str', 'default': None},
            {'name': 'web', 'names': ('--web',), 'negations': (), 'help': 'Short for --tool web_search --tool web_extractor.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'vector_store', 'names': ('--vector-store',), 'negations': (), 'help': 'The knowledge base file_search searches.', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp', 'names': ('--mcp',), 'negations': (), 'help': 'An MCP server (SSE) the model may call (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp_header', 'names': ('--mcp-header',), 'negations': (), 'help': 'A header for an MCP server; VALUE env:VAR reads the environment (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tools_file', 'names': ('--tools-file',), 'negations': (), 'help': 'Function tools from a YAML or JSON file (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tool_choice', 'names': ('--tool-choice',), 'negations': (), 'help': 'Whether and which tool the model must call.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'run_tools', 'names': ('--run-tools',), 'negations': (), 'help': 'Run the programs bound to function tools (run:) and send their output back.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'tool_timeout', 'names': ('--tool-timeout',), 'negations': (), 'help': 'How long one tool program may run (default 60).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_tool_rounds', 'names': ('--max-tool-rounds',), 'negations': (), 'help': 'Rounds of running tools before qwen stops (default 8).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'show_reasoning', 'names': ('--show-reasoning',), 'negations': (), 'help': 'In text mode, print the thinking to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'verbose', 'names': ('-v', '--verbose'), 'negations': (), 'help': 'Print id, model, token usage and timing to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'dry_run', 'names': ('--dry-run',), 'negations': (), 'help': 'Print the request that would be sent (key redacted) and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'no_history', 'names': ('--no-history',), 'negations': (), 'help': 'Do not record this response in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'prompt', 'nargs': -1, 'values': None, 'required': False},
        ),
    },
    ('stream',): {
        'commands': (
        ),
        'options': (
            {'name': 'continue_last', 'names': ('-c', '--continue'), 'negations': (), 'help': 'Continue the last response in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': 'Ask the way a saved YAML preset says (see qwen presets list).', 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'model', 'names': ('-m', '--model'), 'negations': (), 'help': 'Model id (default qwen-plus, or QWEN_MODEL).', 'nargs': 1, 'multiple': False, 'values': 'models', 'type': 'str', 'default': None},
            {'name': 'instructions', 'names': ('-s', '--instructions', '--system'), 'negations': (), 'help': 'System instructions for this turn.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'temperature', 'names': ('-t', '--temperature'), 'negations': (), 'help': 'Sampling temperature, in [0, 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'top_p', 'names': ('--top-p',), 'negations': (), 'help': 'Nucleus sampling, in (0, 1].', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'think', 'names': ('--think',), 'negations': ('--no-think',), 'help': 'Turn thinking on or off (enable_thinking).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'effort', 'names': ('--effort',), 'negations': (), 'help': 'Reasoning effort (reasoning.effort).', 'nargs': 1, 'multiple': False, 'values': (('none', None), ('minimal', None), ('low', None), ('medium', None), ('high', None), ('xhigh', None), ('max', None)), 'type': 'choice', 'default': None},
            {'name': 'max_output_tokens', 'names': ('--max-output-tokens',), 'negations': (), 'help': "Cap on the answer's tokens (at least 16).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'store', 'names': ('--store',), 'negations': ('--no-store',), 'help': 'Let the server keep the response for 7 days (it does by default).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'session_cache', 'names': ('--session-cache',), 'negations': ('--no-session-cache',), 'help': 'Server-side session cache for multi-turn (header x-dashscope-session-cache).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'conversation', 'names': ('--conversation',), 'negations': (), 'help': 'Add this turn to a conversation (conv_...).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'previous', 'names': ('--previous',), 'negations': (), 'help': 'Continue from this response id (previous_response_id).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'extra', 'names': ('--extra',), 'negations': (), 'help': 'A JSON object of raw body fields to merge in, for what is new.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'files', 'names': ('-f', '--file'), 'negations': (), 'help': 'Attach a text file with its name (repeatable; - is stdin).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'images', 'names': ('--image',), 'negations': (), 'help': 'Attach an image file or URL, or - for an image piped in (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'messages', 'names': ('--messages',), 'negations': (), 'help': 'A JSON or YAML file holding the complete input array.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'no_stdin', 'names': ('--no-stdin',), 'negations': (), 'help': 'Do not read piped stdin.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'stdin_wait', 'names': ('--stdin-wait',), 'negations': (), 'help': 'How long an idle stdin may stay silent when a prompt is given (default: 1 s; 10 s where it cannot be told who writes it; to its end in a pipeline).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'tool', 'names': ('--tool',), 'negations': (), 'help': 'A built-in tool: web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search (repeatable).', 'nargs': 1, 'multiple': True, 'values': (('web_search', 'Searches the web; the sources it cites are listed after the answer.'), ('web_extractor', 'Reads the pages web_search found and extracts what the question needs.'), ('code_interpreter', 'Writes and runs Python code in a sandbox; shows the code and its logs.'), ('web_search_image', 'Searches the web for images that match a description.'), ('image_search', 'Finds images similar to an image in the input.'), ('file_search', 'Searches a Model Studio knowledge base.')), 'type': 'str', 'default': None},
            {'name': 'web', 'names': ('--web',), 'negations': (), 'help': 'Short for --tool web_search --tool web_extractor.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'vector_store', 'names': ('--vector-store',), 'negations': (), 'help': 'The knowledge base file_search searches.', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp', 'names': ('--mcp',), 'negations': (), 'help': 'An MCP server (SSE) the model may call (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp_header', 'names': ('--mcp-header',), 'negations': (), 'help': 'A header for an MCP server; VALUE env:VAR reads the environment (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tools_file', 'names': ('--tools-file',), 'negations': (), 'help': 'Function tools from a YAML or JSON file (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tool_choice', 'names': ('--tool-choice',), 'negations': (), 'help': 'Whether and which tool the model must call.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'run_tools', 'names': ('--run-tools',), 'negations': (), 'help': 'Run the programs bound to function tools (run:) and send their output back.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'tool_timeout', 'names': ('--tool-timeout',), 'negations': (), 'help': 'How long one tool program may run (default 60).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_tool_rounds', 'names': ('--max-tool-rounds',), 'negations': (), 'help': 'Rounds of running tools before qwen stops (default 8).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'show_reasoning', 'names': ('--show-reasoning',), 'negations': (), 'help': 'In text mode, print the thinking to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'verbose', 'names': ('-v', '--verbose'), 'negations': (), 'help': 'Print id, model, token usage and timing to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'dry_run', 'names': ('--dry-run',), 'negations': (), 'help': 'Print the request that would be sent (key redacted) and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'no_history', 'names': ('--no-history',), 'negations': (), 'help': 'Do not record this response in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'prompt', 'nargs': -1, 'values': None, 'required': False},
        ),
    },
    ('continue',): {
        'commands': (
        ),
        'options': (
            {'name': 'stream', 'names': ('--stream',), 'negations': (), 'help': 'Print the answer as it arrives (as does -o jsonl).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'tool_output', 'names': ('--tool-output',), 'negations': (), 'help': "Answer a function call: TEXT, or @FILE for a file's text (repeatable).", 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': 'Ask the way a saved YAML preset says (see qwen presets list).', 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'model', 'names': ('-m', '--model'), 'negations': (), 'help': 'Model id (default qwen-plus, or QWEN_MODEL).', 'nargs': 1, 'multiple': False, 'values': 'models', 'type': 'str', 'default': None},
            {'name': 'instructions', 'names': ('-s', '--instructions', '--system'), 'negations': (), 'help': 'System instructions for this turn.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'temperature', 'names': ('-t', '--temperature'), 'negations': (), 'help': 'Sampling temperature, in [0, 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'top_p', 'names': ('--top-p',), 'negations': (), 'help': 'Nucleus sampling, in (0, 1].', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'think', 'names': ('--think',), 'negations': ('--no-think',), 'help': 'Turn thinking on or off (enable_thinking).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'effort', 'names': ('--effort',), 'negations': (), 'help': 'Reasoning effort (reasoning.effort).', 'nargs': 1, 'multiple': False, 'values': (('none', None), ('minimal', None), ('low', None), ('medium', None), ('high', None), ('xhigh', None), ('max', None)), 'type': 'choice', 'default': None},
            {'name': 'max_output_tokens', 'names': ('--max-output-tokens',), 'negations': (), 'help': "Cap on the answer's tokens (at least 16).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'store', 'names': ('--store',), 'negations': ('--no-store',), 'help': 'Let the server keep the response for 7 days (it does by default).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'session_cache', 'names': ('--session-cache',), 'negations': ('--no-session-cache',), 'help': 'Server-side session cache for multi-turn (header x-dashscope-session-cache).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'conversation', 'names': ('--conversation',), 'negations': (), 'help': 'Add this turn to a conversation (conv_...).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'previous', 'names': ('--previous',), 'negations': (), 'help': 'Continue from this response id (previous_response_id).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'extra', 'names': ('--extra',), 'negations': (), 'help': 'A JSON object of raw body fields to merge in, for what is new.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'files', 'names': ('-f', '--file'), 'negations': (), 'help': 'Attach a text file with its name (repeatable; - is stdin).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'images', 'names': ('--image',), 'negations': (), 'help': 'Attach an image file or URL, or - for an image piped in (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'messages', 'names': ('--messages',), 'negations': (), 'help': 'A JSON or YAML file holding the complete input array.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'no_stdin', 'names': ('--no-stdin',), 'negations': (), 'help': 'Do not read piped stdin.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'stdin_wait', 'names': ('--stdin-wait',), 'negations': (), 'help': 'How long an idle stdin may stay silent when a prompt is given (default: 1 s; 10 s where it cannot be told who writes it; to its end in a pipeline).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'tool', 'names': ('--tool',), 'negations': (), 'help': 'A built-in tool: web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search (repeatable).', 'nargs': 1, 'multiple': True, 'values': (('web_search', 'Searches the web; the sources it cites are listed after the answer.'), ('web_extractor', 'Reads the pages web_search found and extracts what the question needs.'), ('code_interpreter', 'Writes and runs Python code in a sandbox; shows the code and its logs.'), ('web_search_image', 'Searches the web for images that match a description.'), ('image_search', 'Finds images similar to an image in the input.'), ('file_search', 'Searches a Model Studio knowledge base.')), 'type': 'str', 'default': None},
            {'name': 'web', 'names': ('--web',), 'negations': (), 'help': 'Short for --tool web_search --tool web_extractor.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'vector_store', 'names': ('--vector-store',), 'negations': (), 'help': 'The knowledge base file_search searches.', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp', 'names': ('--mcp',), 'negations': (), 'help': 'An MCP server (SSE) the model may call (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp_header', 'names': ('--mcp-header',), 'negations': (), 'help': 'A header for an MCP server; VALUE env:VAR reads the environment (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tools_file', 'names': ('--tools-file',), 'negations': (), 'help': 'Function tools from a YAML or JSON file (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tool_choice', 'names': ('--tool-choice',), 'negations': (), 'help': 'Whether and which tool the model must call.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'run_tools', 'names': ('--run-tools',), 'negations': (), 'help': 'Run the programs bound to function tools (run:) and send their output back.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'tool_timeout', 'names': ('--tool-timeout',), 'negations': (), 'help': 'How long one tool program may run (default 60).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_tool_rounds', 'names': ('--max-tool-rounds',), 'negations': (), 'help': 'Rounds of running tools before qwen stops (default 8).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'show_reasoning', 'names': ('--show-reasoning',), 'negations': (), 'help': 'In text mode, print the thinking to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'verbose', 'names': ('-v', '--verbose'), 'negations': (), 'help': 'Print id, model, token usage and timing to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'dry_run', 'names': ('--dry-run',), 'negations': (), 'help': 'Print the request that would be sent (key redacted) and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'no_history', 'names': ('--no-history',), 'negations': (), 'help': 'Do not record this response in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'response', 'nargs': 1, 'values': 'history', 'required': True},
            {'name': 'prompt', 'nargs': -1, 'values': None, 'required': False},
        ),
    },
    ('emulator',): {
        'commands': (
        ),
        'options': (
            {'name': 'port', 'names': ('--port', '-p'), 'negations': (), 'help': 'Port to listen on (0 picks a free one).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': 'unsupported'},
            {'name': 'host', 'names': ('--host',), 'negations': (), 'help': 'Address to listen on.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': 'unsupported'},
            {'name': 'api_key', 'names': ('--api-key',), 'negations': (), 'help': 'Accept only this key (default: any non-empty key).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('batch',): {
        'commands': (
            ('run', 'Send every item from this machine, concurrently and resumably.'),
            ('submit', "Hand the items to Model Studio's Batch API (half price, slower)."),
            ('status', 'Show where a submitted job is: status and counts.'),
            ('list', "List the jobs submitted from here (--remote: the provider's)."),
            ('cancel', 'Cancel a submitted job (completed requests are still billed).'),
            ('fetch', 'Write the results of a settled job, as batch run writes them.'),
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('batch', 'run'): {
        'commands': (
        ),
        'options': (
            {'name': 'each_file', 'names': ('--each-file',), 'negations': (), 'help': 'The PATHs are files: one item per file, attached, its path as the id.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'prompt', 'names': ('--prompt',), 'negations': (), 'help': "The prompt of every item; {input} takes the item's own prompt (as a preset's prompt does).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'out', 'names': ('-O', '--out'), 'negations': (), 'help': 'Write the results to FILE (resumable) instead of stdout.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'full', 'names': ('--full',), 'negations': (), 'help': 'Add the whole response to each result line.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'jobs', 'names': ('-j', '--jobs'), 'negations': (), 'help': 'Requests in flight at most (default 8).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'rpm', 'names': ('--rpm',), 'negations': (), 'help': 'Requests per minute at most.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'tpm', 'names': ('--tpm',), 'negations': (), 'help': 'Tokens per minute at most (paced from replies).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'unordered', 'names': ('--unordered',), 'negations': (), 'help': 'Write results as they finish, not in input order.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'fail_fast', 'names': ('--fail-fast',), 'negations': (), 'help': 'Stop sending at the first item that fails.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': 'Ask the way a saved YAML preset says (see qwen presets list).', 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'model', 'names': ('-m', '--model'), 'negations': (), 'help': 'Model id (default qwen-plus, or QWEN_MODEL).', 'nargs': 1, 'multiple': False, 'values': 'models', 'type': 'str', 'default': None},
            {'name': 'instructions', 'names': ('-s', '--instructions', '--system'), 'negations': (), 'help': 'System instructions for this turn.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'temperature', 'names': ('-t', '--temperature'), 'negations': (), 'help': 'Sampling temperature, in [0, 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'top_p', 'names': ('--top-p',), 'negations': (), 'help': 'Nucleus sampling, in (0, 1].', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'think', 'names': ('--think',), 'negations': ('--no-think',), 'help': 'Turn thinking on or off (enable_thinking).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'effort', 'names': ('--effort',), 'negations': (), 'help': 'Reasoning effort (reasoning.effort).', 'nargs': 1, 'multiple': False, 'values': (('none', None), ('minimal', None), ('low', None), ('medium', None), ('high', None), ('xhigh', None), ('max', None)), 'type': 'choice', 'default': None},
            {'name': 'max_output_tokens', 'names': ('--max-output-tokens',), 'negations': (), 'help': "Cap on the answer's tokens (at least 16).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'store', 'names': ('--store',), 'negations': ('--no-store',), 'help': 'Let the server keep the response for 7 days (it does by default).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'session_cache', 'names': ('--session-cache',), 'negations': ('--no-session-cache',), 'help': 'Server-side session cache for multi-turn (header x-dashscope-session-cache).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'conversation', 'names': ('--conversation',), 'negations': (), 'help': 'Add this turn to a conversation (conv_...).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'previous', 'names': ('--previous',), 'negations': (), 'help': 'Continue from this response id (previous_response_id).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'extra', 'names': ('--extra',), 'negations': (), 'help': 'A JSON object of raw body fields to merge in, for what is new.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'files', 'names': ('-f', '--file'), 'negations': (), 'help': 'Attach a text file with its name (repeatable; - is stdin).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'images', 'names': ('--image',), 'negations': (), 'help': 'Attach an image file or URL, or - for an image piped in (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'messages', 'names': ('--messages',), 'negations': (), 'help': 'A JSON or YAML file holding the complete input array.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'no_stdin', 'names': ('--no-stdin',), 'negations': (), 'help': 'Do not read piped stdin.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'stdin_wait', 'names': ('--stdin-wait',), 'negations': (), 'help': 'How long an idle stdin may stay silent when a prompt is given (default: 1 s; 10 s where it cannot be told who writes it; to its end in a pipeline).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'tool', 'names': ('--tool',), 'negations': (), 'help': 'A built-in tool: web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search (repeatable).', 'nargs': 1, 'multiple': True, 'values': (('web_search', 'Searches the web; the sources it cites are listed after the answer.'), ('web_extractor', 'Reads the pages web_search found and extracts what the question needs.'), ('code_interpreter', 'Writes and runs Python code in a sandbox; shows the code and its logs.'), ('web_search_image', 'Searches the web for images that match a description.'), ('image_search', 'Finds images similar to an image in the input.'), ('file_search', 'Searches a Model Studio knowledge base.')), 'type': 'str', 'default': None},
            {'name': 'web', 'names': ('--web',), 'negations': (), 'help': 'Short for --tool web_search --tool web_extractor.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'vector_store', 'names': ('--vector-store',), 'negations': (), 'help': 'The knowledge base file_search searches.', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp', 'names': ('--mcp',), 'negations': (), 'help': 'An MCP server (SSE) the model may call (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp_header', 'names': ('--mcp-header',), 'negations': (), 'help': 'A header for an MCP server; VALUE env:VAR reads the environment (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tools_file', 'names': ('--tools-file',), 'negations': (), 'help': 'Function tools from a YAML or JSON file (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tool_choice', 'names': ('--tool-choice',), 'negations': (), 'help': 'Whether and which tool the model must call.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'run_tools', 'names': ('--run-tools',), 'negations': (), 'help': 'Run the programs bound to function tools (run:) and send their output back.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'tool_timeout', 'names': ('--tool-timeout',), 'negations': (), 'help': 'How long one tool program may run (default 60).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_tool_rounds', 'names': ('--max-tool-rounds',), 'negations': (), 'help': 'Rounds of running tools before qwen stops (default 8).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'show_reasoning', 'names': ('--show-reasoning',), 'negations': (), 'help': 'In text mode, print the thinking to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'verbose', 'names': ('-v', '--verbose'), 'negations': (), 'help': 'Print id, model, token usage and timing to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'dry_run', 'names': ('--dry-run',), 'negations': (), 'help': 'Print the request that would be sent (key redacted) and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'no_history', 'names': ('--no-history',), 'negations': (), 'help': 'Do not record this response in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'paths', 'nargs': -1, 'values': None, 'required': False},
        ),
    },
    ('batch', 'submit'): {
        'commands': (
        ),
        'options': (
            {'name': 'window', 'names': ('--window',), 'negations': (), 'help': 'How long the provider may take: 24h to 336h, or 7d.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': 'unsupported'},
            {'name': 'wait', 'names': ('--wait',), 'negations': (), 'help': 'Wait for the job to settle, then write its results (as fetch does).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'test', 'names': ('--test',), 'negations': (), 'help': "Send to the provider's free test model, to check everything at no cost.", 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'each_file', 'names': ('--each-file',), 'negations': (), 'help': 'The PATHs are files: one item per file, attached, its path as the id.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'prompt', 'names': ('--prompt',), 'negations': (), 'help': "The prompt of every item; {input} takes the item's own prompt (as a preset's prompt does).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'out', 'names': ('-O', '--out'), 'negations': (), 'help': 'Write the results to FILE (resumable) instead of stdout.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'full', 'names': ('--full',), 'negations': (), 'help': 'Add the whole response to each result line.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'jobs', 'names': ('-j', '--jobs'), 'negations': (), 'help': 'Requests in flight at most (default 8).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'rpm', 'names': ('--rpm',), 'negations': (), 'help': 'Requests per minute at most.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'tpm', 'names': ('--tpm',), 'negations': (), 'help': 'Tokens per minute at most (paced from replies).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'unordered', 'names': ('--unordered',), 'negations': (), 'help': 'Write results as they finish, not in input order.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'fail_fast', 'names': ('--fail-fast',), 'negations': (), 'help': 'Stop sending at the first item that fails.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': 'Ask the way a saved YAML preset says (see qwen presets list).', 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'model', 'names': ('-m', '--model'), 'negations': (), 'help': 'Model id (default qwen-plus, or QWEN_MODEL).', 'nargs': 1, 'multiple': False, 'values': 'models', 'type': 'str', 'default': None},
            {'name': 'instructions', 'names': ('-s', '--instructions', '--system'), 'negations': (), 'help': 'System instructions for this turn.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'temperature', 'names': ('-t', '--temperature'), 'negations': (), 'help': 'Sampling temperature, in [0, 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'top_p', 'names': ('--top-p',), 'negations': (), 'help': 'Nucleus sampling, in (0, 1].', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'think', 'names': ('--think',), 'negations': ('--no-think',), 'help': 'Turn thinking on or off (enable_thinking).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'effort', 'names': ('--effort',), 'negations': (), 'help': 'Reasoning effort (reasoning.effort).', 'nargs': 1, 'multiple': False, 'values': (('none', None), ('minimal', None), ('low', None), ('medium', None), ('high', None), ('xhigh', None), ('max', None)), 'type': 'choice', 'default': None},
            {'name': 'max_output_tokens', 'names': ('--max-output-tokens',), 'negations': (), 'help': "Cap on the answer's tokens (at least 16).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'store', 'names': ('--store',), 'negations': ('--no-store',), 'help': 'Let the server keep the response for 7 days (it does by default).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'session_cache', 'names': ('--session-cache',), 'negations': ('--no-session-cache',), 'help': 'Server-side session cache for multi-turn (header x-dashscope-session-cache).', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'conversation', 'names': ('--conversation',), 'negations': (), 'help': 'Add this turn to a conversation (conv_...).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'previous', 'names': ('--previous',), 'negations': (), 'help': 'Continue from this response id (previous_response_id).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'extra', 'names': ('--extra',), 'negations': (), 'help': 'A JSON object of raw body fields to merge in, for what is new.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'files', 'names': ('-f', '--file'), 'negations': (), 'help': 'Attach a text file with its name (repeatable; - is stdin).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'images', 'names': ('--image',), 'negations': (), 'help': 'Attach an image file or URL, or - for an image piped in (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'messages', 'names': ('--messages',), 'negations': (), 'help': 'A JSON or YAML file holding the complete input array.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'no_stdin', 'names': ('--no-stdin',), 'negations': (), 'help': 'Do not read piped stdin.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'stdin_wait', 'names': ('--stdin-wait',), 'negations': (), 'help': 'How long an idle stdin may stay silent when a prompt is given (default: 1 s; 10 s where it cannot be told who writes it; to its end in a pipeline).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'tool', 'names': ('--tool',), 'negations': (), 'help': 'A built-in tool: web_search, web_extractor, code_interpreter, web_search_image, image_search, file_search (repeatable).', 'nargs': 1, 'multiple': True, 'values': (('web_search', 'Searches the web; the sources it cites are listed after the answer.'), ('web_extractor', 'Reads the pages web_search found and extracts what the question needs.'), ('code_interpreter', 'Writes and runs Python code in a sandbox; shows the code and its logs.'), ('web_search_image', 'Searches the web for images that match a description.'), ('image_search', 'Finds images similar to an image in the input.'), ('file_search', 'Searches a Model Studio knowledge base.')), 'type': 'str', 'default': None},
            {'name': 'web', 'names': ('--web',), 'negations': (), 'help': 'Short for --tool web_search --tool web_extractor.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'vector_store', 'names': ('--vector-store',), 'negations': (), 'help': 'The knowledge base file_search searches.', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp', 'names': ('--mcp',), 'negations': (), 'help': 'An MCP server (SSE) the model may call (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'mcp_header', 'names': ('--mcp-header',), 'negations': (), 'help': 'A header for an MCP server; VALUE env:VAR reads the environment (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tools_file', 'names': ('--tools-file',), 'negations': (), 'help': 'Function tools from a YAML or JSON file (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'tool_choice', 'names': ('--tool-choice',), 'negations': (), 'help': 'Whether and which tool the model must call.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'run_tools', 'names': ('--run-tools',), 'negations': (), 'help': 'Run the programs bound to function tools (run:) and send their output back.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'tool_timeout', 'names': ('--tool-timeout',), 'negations': (), 'help': 'How long one tool program may run (default 60).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_tool_rounds', 'names': ('--max-tool-rounds',), 'negations': (), 'help': 'Rounds of running tools before qwen stops (default 8).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'show_reasoning', 'names': ('--show-reasoning',), 'negations': (), 'help': 'In text mode, print the thinking to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'verbose', 'names': ('-v', '--verbose'), 'negations': (), 'help': 'Print id, model, token usage and timing to stderr.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'dry_run', 'names': ('--dry-run',), 'negations': (), 'help': 'Print the request that would be sent (key redacted) and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'no_history', 'names': ('--no-history',), 'negations': (), 'help': 'Do not record this response in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'paths', 'nargs': -1, 'values': None, 'required': False},
        ),
    },
    ('batch', 'status'): {
        'commands': (
        ),
        'options': (
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'reference', 'nargs': 1, 'values': None, 'required': False},
        ),
    },
    ('batch', 'list'): {
        'commands': (
        ),
        'options': (
            {'name': 'remote', 'names': ('--remote',), 'negations': (), 'help': "List the provider's jobs of the last 30 days.", 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('batch', 'cancel'): {
        'commands': (
        ),
        'options': (
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'reference', 'nargs': 1, 'values': None, 'required': True},
        ),
    },
    ('batch', 'fetch'): {
        'commands': (
        ),
        'options': (
            {'name': 'out', 'names': ('-O', '--out'), 'negations': (), 'help': 'Write the results to FILE, not stdout.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'full', 'names': ('--full',), 'negations': (), 'help': "Add the provider's whole line to each result.", 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'raw', 'names': ('--raw',), 'negations': (), 'help': "Write the provider's own lines instead.", 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'delete', 'names': ('--delete',), 'negations': (), 'help': "Delete the job's files on the server once the results are written.", 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'no_history', 'names': ('--no-history',), 'negations': (), 'help': 'Do not record the answers in the local history.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'reference', 'nargs': 1, 'values': None, 'required': False},
        ),
    },
    ('history',): {
        'commands': (
            ('list', 'List recorded responses, newest first.'),
            ('show', 'Show one recorded response: its prompt,...'),
            ('thread', 'Show the chain of turns from the first one to ID.'),
            ('clear', 'Delete recorded responses: all, or those older than an age.'),
            ('usage', 'Sum the tokens used, by model, day or preset, with an estimated cost.'),
            ('path', 'Print where the history is kept.'),
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('history', 'list'): {
        'commands': (
        ),
        'options': (
            {'name': 'limit', 'names': ('-n', '--limit'), 'negations': (), 'help': 'How many responses, newest first.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int range', 'default': 'unsupported'},
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('history', 'show'): {
        'commands': (
        ),
        'options': (
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'response', 'nargs': 1, 'values': 'history', 'required': True},
        ),
    },
    ('history', 'thread'): {
        'commands': (
        ),
        'options': (
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'response', 'nargs': 1, 'values': 'history', 'required': True},
        ),
    },
    ('history', 'clear'): {
        'commands': (
        ),
        'options': (
            {'name': 'older_than', 'names': ('--older-than',), 'negations': (), 'help': 'Only responses older than AGE: 30d, 12h, 90m, 2w.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'yes', 'names': ('--yes', '-y'), 'negations': (), 'help': 'Do not ask for confirmation on a terminal.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('history', 'usage'): {
        'commands': (
        ),
        'options': (
            {'name': 'since', 'names': ('--since',), 'negations': (), 'help': 'Only responses since an age ago (7d, 12h) or a date (2026-05-01).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'by', 'names': ('--by',), 'negations': (), 'help': 'One row per model, local day or preset.', 'nargs': 1, 'multiple': False, 'values': (('model', None), ('day', None), ('preset', None)), 'type': 'choice', 'default': 'unsupported'},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (a table on a terminal, else tab-separated text), pretty, text, json or jsonl (one line).', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('history', 'path'): {
        'commands': (
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('response',): {
        'commands': (
            ('get', 'Fetch a stored response and print it like...'),
            ('delete', 'Delete a stored response from the server.'),
            ('items', 'List the input items of a stored response,...'),
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('response', 'get'): {
        'commands': (
        ),
        'options': (
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'response', 'nargs': 1, 'values': None, 'required': True},
        ),
    },
    ('response', 'delete'): {
        'commands': (
        ),
        'options': (
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'response', 'nargs': 1, 'values': None, 'required': True},
        ),
    },
    ('response', 'items'): {
        'commands': (
        ),
        'options': (
            {'name': 'limit', 'names': ('--limit',), 'negations': (), 'help': "How many items (1-100; the server's default is 20).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int range', 'default': None},
            {'name': 'order', 'names': ('--order',), 'negations': (), 'help': "asc or desc (the server's default is desc: newest first).", 'nargs': 1, 'multiple': False, 'values': (('asc', None), ('desc', None)), 'type': 'choice', 'default': None},
            {'name': 'after', 'names': ('--after',), 'negations': (), 'help': 'List the items after this item id.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'response', 'nargs': 1, 'values': None, 'required': True},
        ),
    },
    ('conversation',): {
        'commands': (
            ('create', 'Create a conversation; later turns join it...'),
            ('items', 'List the items of a conversation.'),
            ('delete', 'Delete a conversation from the server.'),
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('conversation', 'create'): {
        'commands': (
        ),
        'options': (
            {'name': 'items', 'names': ('--item',), 'negations': (), 'help': 'A first user message (repeatable, up to 20).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('conversation', 'items'): {
        'commands': (
        ),
        'options': (
            {'name': 'limit', 'names': ('--limit',), 'negations': (), 'help': "How many items (1-100; the server's default is 20).", 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int range', 'default': None},
            {'name': 'order', 'names': ('--order',), 'negations': (), 'help': "asc or desc (the server's default is desc: newest first).", 'nargs': 1, 'multiple': False, 'values': (('asc', None), ('desc', None)), 'type': 'choice', 'default': None},
            {'name': 'after', 'names': ('--after',), 'negations': (), 'help': 'List the items after this item id.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'conversation', 'nargs': 1, 'values': None, 'required': True},
        ),
    },
    ('conversation', 'delete'): {
        'commands': (
        ),
        'options': (
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'json_output', 'names': ('--json',), 'negations': (), 'help': 'Short for -o json.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'debug', 'names': ('--debug',), 'negations': (), 'help': 'Log the HTTP exchange (secrets redacted) and show tracebacks.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'conversation', 'nargs': 1, 'values': None, 'required': True},
        ),
    },
    ('tools',): {
        'commands': (
            ('list', 'List the built-in tools with their rules, and function tools.'),
            ('show', 'Print the JSON definition qwen would send for a tool.'),
            ('check', 'Validate a tools file: errors name the file, entry and key.'),
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('tools', 'list'): {
        'commands': (
        ),
        'options': (
            {'name': 'tools_file', 'names': ('--tools-file',), 'negations': (), 'help': 'Function tools from a YAML or JSON file (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': 'Include the tools this preset sends.', 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('tools', 'show'): {
        'commands': (
        ),
        'options': (
            {'name': 'tools_file', 'names': ('--tools-file',), 'negations': (), 'help': 'Function tools from a YAML or JSON file (repeatable).', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': 'Include the tools this preset sends.', 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'vector_store', 'names': ('--vector-store',), 'negations': (), 'help': 'For file_search: the knowledge base.', 'nargs': 1, 'multiple': True, 'values': None, 'type': 'str', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'name', 'nargs': 1, 'values': (('web_search', 'Searches the web; the sources it cites are listed after the answer.'), ('web_extractor', 'Reads the pages web_search found and extracts what the question needs.'), ('code_interpreter', 'Writes and runs Python code in a sandbox; shows the code and its logs.'), ('web_search_image', 'Searches the web for images that match a description.'), ('image_search', 'Finds images similar to an image in the input.'), ('file_search', 'Searches a Model Studio knowledge base.')), 'required': True},
        ),
    },
    ('tools', 'check'): {
        'commands': (
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'path', 'nargs': 1, 'values': None, 'required': True},
        ),
    },
    ('presets',): {
        'commands': (
            ('list', 'List the presets: name, project or user,...'),
            ('show', 'Print a preset as written, or as a request...'),
            ('path', 'Print the directories searched for presets, in order.'),
            ('trust', "Trust a project's presets as they are now, so -p may use them."),
            ('untrust', "Forget a project's trust: -p refuses its presets again."),
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('presets', 'list'): {
        'commands': (
        ),
        'options': (
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('presets', 'show'): {
        'commands': (
        ),
        'options': (
            {'name': 'resolved', 'names': ('--resolved',), 'negations': (), 'help': 'After extends, with the file each value comes from and what falls to lower layers.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'preset', 'nargs': 1, 'values': 'presets', 'required': True},
        ),
    },
    ('presets', 'path'): {
        'commands': (
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('presets', 'trust'): {
        'commands': (
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'directory', 'nargs': 1, 'values': None, 'required': False},
        ),
    },
    ('presets', 'untrust'): {
        'commands': (
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
            {'name': 'directory', 'nargs': 1, 'values': None, 'required': False},
        ),
    },
    ('config',): {
        'commands': (
            ('show', 'Print every setting in effect and where it...'),
            ('path', 'Print where the config file is (whether or...'),
            ('init', 'Write a commented starter config file...'),
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('config', 'show'): {
        'commands': (
        ),
        'options': (
            {'name': 'as_json', 'names': ('--json',), 'negations': (), 'help': 'Print JSON instead of text.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'preset', 'names': ('-p', '--preset'), 'negations': (), 'help': "Add this preset's layer, as -p on a request does.", 'nargs': 1, 'multiple': False, 'values': 'presets', 'type': 'str', 'default': None},
            {'name': 'model', 'names': ('-m', '--model'), 'negations': (), 'help': 'Model id, as -m on a request.', 'nargs': 1, 'multiple': False, 'values': 'models', 'type': 'str', 'default': None},
            {'name': 'output', 'names': ('-o', '--output'), 'negations': (), 'help': 'auto (pretty on a terminal, else text), pretty, text, json or jsonl.', 'nargs': 1, 'multiple': False, 'values': (('auto', None), ('pretty', None), ('text', None), ('json', None), ('jsonl', None)), 'type': 'choice', 'default': None},
            {'name': 'region', 'names': ('--region',), 'negations': (), 'help': 'Endpoint region: intl (default), cn or us.', 'nargs': 1, 'multiple': False, 'values': (('intl', None), ('cn', None), ('us', None)), 'type': 'choice', 'default': None},
            {'name': 'base_url', 'names': ('--base-url',), 'negations': (), 'help': 'API base URL (or QWEN_BASE_URL); overrides --region.', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'str', 'default': None},
            {'name': 'timeout', 'names': ('--timeout',), 'negations': (), 'help': 'Seconds to wait for the reply, or for the next event of a stream (default 300).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'float', 'default': None},
            {'name': 'max_retries', 'names': ('--max-retries',), 'negations': (), 'help': 'Retries of transient failures (default 2).', 'nargs': 1, 'multiple': False, 'values': None, 'type': 'int', 'default': None},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('config', 'path'): {
        'commands': (
        ),
        'options': (
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
    ('config', 'init'): {
        'commands': (
        ),
        'options': (
            {'name': 'force', 'names': ('--force',), 'negations': (), 'help': 'Overwrite an existing config file.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': False},
            {'name': 'help', 'names': ('-h', '--help'), 'negations': (), 'help': 'Show this message and exit.', 'nargs': 0, 'multiple': False, 'values': None, 'type': 'boolean', 'default': None},
        ),
        'arguments': (
        ),
    },
}
