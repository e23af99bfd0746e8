"""`qwen batch`: many prompts, on this machine (`run`) or through Model Studio's Batch API (`submit`, `status`,
`fetch`, `cancel`, `list`). Commands are short recipes; the work is in `batch_run` and the `batch` package.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from qwen_cli.cli import batch_run
from qwen_cli.cli.flags import BatchFlags, with_batch_flags
from qwen_cli.cli.help_format import CommandGroup
from qwen_cli.cli.world import World

batch_app = CommandGroup(
    help="""Many prompts at once: concurrently on this machine, or through Model Studio's Batch API.

    Items are JSON lines: a prompt string, or {"id", "prompt", "instructions", "model", "files", "images",
    "input", "values"}. Results are JSON lines, one per item, in input order.

    \b
    Examples:
      qwen batch run prompts.jsonl -O results.jsonl -j 16
      qwen batch run -p review --each-file src/*.py -O reviews.jsonl
      jq -c '{id, prompt: .question}' tickets.jsonl | qwen batch run - --prompt "Label: {input}"
    """,
    no_args_is_help=True,
)

ItemPaths = Annotated[
    Optional[list[str]],
    typer.Argument(
        metavar="PATH...",
        help="JSONL files of items (- reads stdin), or with --each-file the files themselves.",
        show_default=False,
    ),
]


@batch_app.command("run", short_help="Send every item from this machine, concurrently and resumably.")
@with_batch_flags
def batch_run_command(paths: ItemPaths = None, *, flags: BatchFlags) -> None:
    """Send every item from this machine: -j requests in flight over one connection pool, paced by --rpm and
    --tpm, slowing down on rate limits; each item retried on its own, one failure never stops the rest.

    With -O FILE the run is resumable: each result line is written as its item completes, and rerunning the
    same command skips the items already answered (for the same request) and retries the failed ones. Ctrl-C
    stops at once and leaves the file whole.

    Every request flag and the preset apply to every item; an item's own model and instructions win. Each
    response is recorded in the local history (qwen continue works for any of them) unless --no-history.

    Exit codes: 0 every item answered, 8 some items failed (their lines say why), 2 bad input (before
    anything is sent), 3 authentication, 130 interrupted.

    \b
    Examples:
      qwen batch run prompts.jsonl -O results.jsonl
      qwen batch run -p review --each-file src/*.py -O reviews.jsonl -j 16
      qwen batch run tickets.jsonl --prompt "Summarise: {input}" --rpm 600 -O out.jsonl
      cat prompts.jsonl | qwen batch run - --unordered | jq -r .text
    """
    batch_run.run(paths or [], flags, World.of_process())
