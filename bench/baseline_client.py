"""The smallest honest Responses API client, standard library only: the yardstick qwen is measured against.

    python bench/baseline_client.py ask|stream BASE_URL PROMPT

`ask` posts one request and prints the answer's text; `stream` reads the SSE lines, parses each event's JSON
and writes every text delta to stdout, flushing it, then one newline. Key from DASHSCOPE_API_KEY.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from urllib.parse import urlsplit

TEXT_DELTA = "response.output_text.delta"


def post(base_url: str, body: dict) -> http.client.HTTPResponse:
    url = urlsplit(base_url.rstrip("/") + "/responses")
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=300)
    headers = {
        "Authorization": f"Bearer {os.environ.get('DASHSCOPE_API_KEY', 'sk-bench')}",
        "Content-Type": "application/json",
    }
    connection.request("POST", url.path, json.dumps(body).encode("utf-8"), headers)
    reply = connection.getresponse()
    if reply.status != 200:
        sys.exit(f"baseline: HTTP {reply.status}: {reply.read()[:200]!r}")
    return reply


def answer_text(response: dict) -> str:
    return "".join(
        part.get("text", "")
        for item in response.get("output", [])
        if item.get("type") == "message"
        for part in item.get("content", [])
        if part.get("type") == "output_text"
    )


def ask(base_url: str, prompt: str) -> None:
    response = json.loads(post(base_url, {"model": "qwen-plus", "input": prompt}).read())
    sys.stdout.write(answer_text(response) + "\n")


def stream(base_url: str, prompt: str) -> None:
    reply = post(base_url, {"model": "qwen-plus", "input": prompt, "stream": True})
    out = sys.stdout
    for line in reply:
        if line.startswith(b"data:"):
            event = json.loads(line[5:])
            if event.get("type") == TEXT_DELTA:
                out.write(event["delta"])
                out.flush()
    out.write("\n")
    out.flush()


def main() -> None:
    mode, base_url, prompt = sys.argv[1:4]
    {"ask": ask, "stream": stream}[mode](base_url, prompt)


if __name__ == "__main__":
    main()
