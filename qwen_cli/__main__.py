"""`python -m qwen_cli` behaves exactly like the `qwen` command."""

from qwen_cli.cli import main

if __name__ == "__main__":
    main()
