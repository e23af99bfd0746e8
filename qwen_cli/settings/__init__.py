"""What the user configured: defaults, the config file, the environment, presets (validated into frozen
dataclasses), YAML loading (the only importer of yaml) and the checks of files that hold secrets. Never imports httpx."""
