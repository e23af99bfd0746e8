"""What both batch engines share: settings and preset resolved once, the items checked, and one request per item;
part of the cli layer.

Every request flag and the preset apply to every item; an item's own `model` and `instructions` win. The shared
input (-f, --image, --messages) is read once and goes with every item, before the item's own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from qwen_cli.cli import turns
from qwen_cli.cli.flags import BatchFlags
from qwen_cli.cli.world import World
from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.api.request import PreparedRequest, RequestOptions, UserInput
    from qwen_cli.batch.items import Item, Items
    from qwen_cli.cli.continuation import Origin
    from qwen_cli.redaction import Secrets
    from qwen_cli.settings.config import Settings, SettingSources
    from qwen_cli.tools.rounds import ToolPlan

DEFAULT_JOBS = 8


@dataclass(frozen=True)
class BatchSetup:
    world: World
    settings: Settings
    sources: SettingSources
    options: RequestOptions
    template: str | None
    shared: UserInput
    plan: ToolPlan
    preset_ref: str | None
    origin: Origin

    def request_for(self, item: Item) -> tuple[PreparedRequest, UserInput]:
        """The item's request, its files and images read now (a file that went away fails this item alone)."""
        from qwen_cli.api.request import build_request

        user_input = self.input_for(item)
        options = replace(
            self.options,
            model=item.model or self.options.model,
            instructions=item.instructions if item.instructions is not None else self.options.instructions,
        )
        secrets = self.plan.tools.secrets
        return build_request(
            self.settings.base_url, self.settings.api_key, options, user_input, False, secrets
        ), user_input

    def input_for(self, item: Item) -> UserInput:
        from qwen_cli.api.request import Attachment, UserInput
        from qwen_cli.cli.inputs import load_image
        from qwen_cli.settings.files import read_text

        prompt = filled(self.template, item.prompt, item.values) if self.template is not None else item.prompt
        attachments = tuple(Attachment(name=path, text=read_text(path)) for path in item.files)
        images = tuple(load_image(ref) for ref in item.images)
        messages = (*(self.shared.messages or ()), *(item.input or ())) or None
        return UserInput(
            prompt=prompt,
            attachments=self.shared.attachments + attachments,
            images=self.shared.images + images,
            messages=messages,
        )

    def secrets(self) -> Secrets:
        """The key, the base URL's password and every MCP header value: what no result line or message may show."""
        from qwen_cli.redaction import Secrets, url_password

        return Secrets.of(self.settings.api_key, (url_password(self.settings.base_url), *self.plan.tools.secrets))

    def check_item(self, item: Item) -> None:
        """What only the run's flags can tell is wrong with an item, said before anything is sent."""
        if item.values and self.template is None:
            raise UsageError(
                f'{item.where}: "values" fill a prompt template, but there is none; give --prompt or a preset with a prompt'
            )


def filled(template: str, prompt: str, values: dict[str, str]) -> str:
    """The template with each `{name}` of the item's values replaced, then `{input}` by its prompt (see presets)."""
    from qwen_cli.settings.presets import apply_template

    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return apply_template(template, prompt)


def request_digest(request: PreparedRequest) -> str:
    """What a result was answered for: the endpoint and the body (never a header, so never the key)."""
    body = {key: value for key, value in (request.body or {}).items() if key != "stream"}
    canonical = json.dumps({"url": request.url, "body": body}, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def refuse_what_does_not_apply(flags: BatchFlags) -> None:
    if flags.output is not None or flags.json_output:
        raise UsageError("batch results are JSON lines, on stdout or in -O FILE: -o and --json do not apply")
    if flags.run_tools:
        raise UsageError(
            "--run-tools does not apply to a batch: an item whose model calls functions ends with status function_calls"
        )
    ignored = {
        "-v": flags.verbose or None,
        "--show-reasoning": flags.show_reasoning or None,  # a result line carries the answer; --full the reasoning too
        "--tool-timeout": flags.tool_timeout,
        "--max-tool-rounds": flags.max_tool_rounds,
        "--stdin-wait": flags.stdin_wait,
    }
    given = [name for name, value in ignored.items() if value is not None]
    if given:
        raise UsageError(f"{given[0]} does not apply to a batch: each item's result line says what there is to know")
    if flags.jobs is not None and not 1 <= flags.jobs <= 256:
        raise UsageError(f"--jobs must be from 1 to 256, got {flags.jobs}")
    for name, value in (("--rpm", flags.rpm), ("--tpm", flags.tpm)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1, got {value}")


def prepare(world: World, flags: BatchFlags, items: Items, stdin_taken: bool) -> BatchSetup:
    """Settings, preset, options and the shared input, then every item checked: all before any network."""
    from qwen_cli.cli import continuation
    from qwen_cli.cli.inputs import Sources, StdinPolicy, collect

    refuse_what_does_not_apply(flags)
    sources = flags.setting_sources(world.env)
    preset_ref, preset, _ = turns.choose_preset(world, flags.preset, None)
    settings = sources.resolve(turns.preset_layer(preset))
    world.note_all((*settings.warnings, *(preset.warnings if preset else ())))
    options = flags.options(settings.model, turns.preset_options(preset))
    template = flags.prompt if flags.prompt is not None else (preset.prompt if preset else None)
    if stdin_taken and ("-" in flags.files or "-" in flags.images):
        raise UsageError("stdin holds the items (-), so -f - and --image - cannot read it too; name the file instead")
    stdin = None if stdin_taken or flags.no_stdin or world.stdin_is_terminal else world.stdin
    if stdin is not None and "-" not in flags.files and "-" not in flags.images:
        stdin = None  # piped stdin is the material of one prompt in `ask`; in a batch only -f - reads it
    shared_sources = Sources("", flags.files, flags.images, flags.messages)
    shared = collect(shared_sources, stdin, StdinPolicy(grace=lambda: None, note=world.note)).user_input
    plan = turns.plan_request_tools(world, flags, preset, shared)
    options = replace(options, tools=plan.definitions(), tool_choice=plan.choice)
    setup = BatchSetup(
        world=world,
        settings=settings,
        sources=sources,
        options=options,
        template=template,
        shared=shared,
        plan=plan,
        preset_ref=preset_ref,
        origin=continuation.origin_of(settings.base_url, preset),
    )
    items.check(setup.check_item)
    return setup


def dry_run(setup: BatchSetup, items: Items) -> None:
    """Each item's request, as `ask --dry-run` shows one (secrets redacted), one JSON line per item."""
    from qwen_cli import bounds

    for item in items.iterate():
        request, _ = setup.request_for(item)
        print(bounds.dumps({"id": item.id, **request.redacted()}), file=setup.world.stdout)


def shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
