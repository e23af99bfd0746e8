"""The same two requests as `baseline_client.py`, made through the official openai SDK (a reference point).

    python bench/openai_client.py ask|stream BASE_URL PROMPT

Run by whichever interpreter has `openai` installed; key from DASHSCOPE_API_KEY.
"""

from __future__ import annotations

import os
import sys

from openai import OpenAI


def main() -> None:
    mode, base_url, prompt = sys.argv[1:4]
    client = OpenAI(base_url=base_url, api_key=os.environ.get("DASHSCOPE_API_KEY", "sk-bench"), max_retries=0)
    if mode == "ask":
        response = client.responses.create(model="qwen-plus", input=prompt)
        sys.stdout.write(response.output_text + "\n")
        return
    out = sys.stdout
    for event in client.responses.create(model="qwen-plus", input=prompt, stream=True):
        if event.type == "response.output_text.delta":
            out.write(event.delta)
            out.flush()
    out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
