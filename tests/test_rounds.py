"""Tests for qwen_cli.tools.rounds.next_step: what follows a response in a turn, decided without running anything."""

from __future__ import annotations

from qwen_cli.tools.catalogue import FunctionTool, ToolSet
from qwen_cli.tools.rounds import Step, ToolPlan, next_step


def plan(run: bool = True, max_rounds: int = 3, bound: tuple[str, ...] = ("get_weather", "get_time")) -> ToolPlan:
    functions = tuple(FunctionTool(name, "", None, ("./prog",), "tools.yaml") for name in bound)
    return ToolPlan(ToolSet(functions=functions), None, run=run, max_rounds=max_rounds)


def response(*names: str) -> dict:
    calls = [
        {"type": "function_call", "name": name, "call_id": f"call_{n}", "arguments": "{}"}
        for n, name in enumerate(names)
    ]
    return {
        "id": "resp_1",
        "output": calls or [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}],
    }


def test_an_answer_ends_the_turn() -> None:
    assert next_step(response(), plan(), 0) == Step()


def test_calls_qwen_may_run_are_run() -> None:
    step = next_step(response("get_weather", "get_time"), plan(), 2)
    assert step.run and [call["name"] for call in step.calls] == ["get_weather", "get_time"]


def test_without_run_tools_the_calls_are_left_for_the_user() -> None:
    step = next_step(response("get_weather"), plan(run=False), 0)
    assert (step.run, step.why) == (False, "pass --run-tools to run the programs bound with run:")
    assert len(step.calls) == 1


def test_the_last_round_leaves_its_calls_unanswered() -> None:
    step = next_step(response("get_weather"), plan(max_rounds=3), 3)
    assert (step.run, step.why) == (False, "--max-tool-rounds (3) was reached")


def test_one_unbound_call_leaves_the_whole_round_unanswered() -> None:
    step = next_step(response("get_weather", "send_mail", "send_mail"), plan(), 0)
    assert not step.run and len(step.calls) == 3
    assert step.why == "no program is bound to send_mail (add run: [...] to its tools-file entry)"
