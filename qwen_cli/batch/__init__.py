"""Many prompts at once: `qwen batch`.

The inputs (`items`), the result lines both engines write (`results`), this machine's engine (`local`, paced by
`pacing`), and Model Studio's Batch API (`chat_lines` maps a request to a batch line, `provider` reads its output
lines, `remote` speaks the Files and Batches endpoints, `jobs` remembers what was submitted). The commands
themselves live in `cli.batch_commands`.
"""
