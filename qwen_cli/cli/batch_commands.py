"""`qwen batch`: many prompts, on this machine (`run`) or through Model Studio's Batch API (`submit`, `status`,
`fetch`, `cancel`, `list`). Commands are short recipes; the work is in `batch_run` and the `batch` package.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from qwen_cli.cli import batch_run
from qwen_cli.cli.flags import ApiFlags, BatchFlags, with_api_flags, with_batch_flags
from qwen_cli.cli.help_format import CommandGroup
from qwen_cli.cli.world import World

batch_app = CommandGroup(
    help="""Many prompts at once, here or through the Batch API.

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


JobId = Annotated[
    str,
    typer.Argument(metavar="ID", help="A batch id, an unambiguous prefix of one, or 'last'.", show_default=False),
]


@batch_app.command("submit", short_help="Hand the items to Model Studio's Batch API (half price, slower).")
@with_batch_flags
def batch_submit_command(
    paths: ItemPaths = None,
    window: Annotated[
        str, typer.Option("--window", metavar="TIME", help="How long the provider may take: 24h to 336h, or 7d.")
    ] = "24h",
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the job to settle, then write its results (as fetch does).")
    ] = False,
    test: Annotated[
        bool, typer.Option("--test", help="Send to the provider's free test model, to check everything at no cost.")
    ] = False,
    *,
    flags: BatchFlags,
) -> None:
    """Hand the items to Model Studio's Batch API: each becomes a Chat Completions batch line, checked against
    the provider's limits, uploaded as one file; the job is created and its id printed on stdout.

    The provider's batch costs half the realtime price, but takes minutes to hours and has no prompt cache.
    An item that needs what a batch line cannot carry (built-in tools, previous_response_id, a conversation)
    is refused before anything is uploaded. A job is never resubmitted by itself: that would be a second paid
    job.

    \b
    Examples:
      qwen batch submit prompts.jsonl -m qwen-plus
      qwen batch submit prompts.jsonl --test --wait -O results.jsonl
      qwen batch submit -p review --each-file src/*.py --window 48h
    """
    from qwen_cli.cli import batch_provider

    batch_provider.submit(paths or [], flags, World.of_process(), window, wait, test)


@batch_app.command("status", short_help="Show where a submitted job is: status and counts.")
@with_api_flags
def batch_status_command(reference: JobId = "last", *, flags: ApiFlags) -> None:
    """Ask the provider where a submitted job is: its status, how many requests are done and failed.

    \b
    Examples:
      qwen batch status
      qwen batch status batch_fa05 --json | jq -r .batch.status
    """
    from qwen_cli.cli import batch_provider

    batch_provider.status(reference, flags, World.of_process())


@batch_app.command("list", short_help="List the jobs submitted from here (--remote: the provider's).")
@with_api_flags
def batch_list_command(
    remote: Annotated[bool, typer.Option("--remote", help="List the provider's jobs of the last 30 days.")] = False,
    *,
    flags: ApiFlags,
) -> None:
    """List the jobs submitted from here, newest first, with the status last seen.

    \b
    Examples:
      qwen batch list
      qwen batch list --remote --json
    """
    from qwen_cli.cli import batch_provider

    batch_provider.list_jobs(flags, World.of_process(), remote)


@batch_app.command("cancel", short_help="Cancel a submitted job (completed requests are still billed).")
@with_api_flags
def batch_cancel_command(reference: JobId, *, flags: ApiFlags) -> None:
    """Cancel a submitted job. Requests already completed are still billed, and their results can be fetched
    once the job is cancelled.

    \b
    Examples:
      qwen batch cancel last
    """
    from qwen_cli.cli import batch_provider

    batch_provider.cancel(reference, flags, World.of_process())


@batch_app.command("fetch", short_help="Write the results of a settled job, as batch run writes them.")
@with_api_flags
def batch_fetch_command(
    reference: JobId = "last",
    out: Annotated[
        Optional[str], typer.Option("-O", "--out", metavar="FILE", help="Write the results to FILE, not stdout.")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Add the provider's whole line to each result.")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Write the provider's own lines instead.")] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete the job's files on the server once the results are written.")
    ] = False,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not record the answers in the local history.")
    ] = False,
    *,
    flags: ApiFlags,
) -> None:
    """Write the results of a settled job: one line per item, in input order, the same lines batch run
    writes (a request that failed inside the provider's output file included). Refused, with exit 9, until
    the job has settled.

    Exit codes: 0 every item answered, 8 some failed, 9 not settled yet.

    \b
    Examples:
      qwen batch fetch last -O results.jsonl
      qwen batch fetch batch_fa05 --raw > provider-lines.jsonl
      until qwen batch fetch last -O out.jsonl; do [ $? -eq 9 ] || break; sleep 300; done
    """
    from qwen_cli.cli import batch_fetch

    fetching = batch_fetch.Fetching(out=out, full=full, raw=raw, delete=delete, history=not no_history)
    batch_fetch.fetch(reference, flags, World.of_process(), fetching)
