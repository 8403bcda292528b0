"""Refine: the user's settings applied to the checks' findings (selection, per-file ignores,
suppression comments, severities, the baseline), and the result a run reports."""
