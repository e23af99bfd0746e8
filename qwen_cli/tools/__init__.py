"""Tools on a request: the catalogue of built-in, MCP and function tools and their checks, the runner of local
programs bound to functions (the only part that starts one), and the decision of what a tool round does next."""
