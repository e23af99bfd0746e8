"""`python -m qwen_cli` behaves exactly like the `qwen` command (the same fast entry point)."""

from qwen_cli.cli.launch import main

if __name__ == "__main__":
    main()
