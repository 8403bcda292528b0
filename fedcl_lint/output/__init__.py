"""Reporters: turn an analysis or a check result into text, JSON, SARIF, GitHub workflow commands,
a rich table, rule pages or the protocol page (Markdown). They only read."""
