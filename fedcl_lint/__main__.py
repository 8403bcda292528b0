"""Allow ``python -m fedcl_lint``."""

from fedcl_lint.cli import main

main()
