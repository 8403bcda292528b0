"""Actions: what the tool does beyond reporting: apply the fixes the findings carry (`--fix`), and
compare two protocols (`diff`)."""
