"""The Responses API on the client's side: pure request building, the HTTP client (the only importer of httpx),
SSE decoding and accumulation, and readers of Response objects. Never imports cli, render or rich."""
