"""The output modes (pretty, text, json, jsonl): renderers that consume a stream of deltas and events. The only
part that imports rich, and only when pretty output is drawn."""
