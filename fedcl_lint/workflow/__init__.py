"""Workflow: the stages run in order (`pipeline.analyze`), the whole `check` command as one call the
command line, the tests and editors share (`check_run.run_check`), and the replay of unchanged runs."""
