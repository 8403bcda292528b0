"""Settings: what the user declares, read and validated before anything runs: the configuration
(`[tool.fedcl-lint]`), the rule packs (the messaging API), and the globs they hold."""
