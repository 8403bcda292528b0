"""Reporters: turn an analysis into text, JSON or a rich table. They only read."""
