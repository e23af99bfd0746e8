"""The command line: the Typer app and its commands (short recipes: resolve -> build -> send -> render), the fast
entry and its parser, completion, the turn recipe and the one error boundary. The only part that knows flags,
stdio, terminals and exit codes; it composes every other part, and none of them imports it."""
