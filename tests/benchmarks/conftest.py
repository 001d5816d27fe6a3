"""The benchmarks are run by `python -m tests.benchmarks.run`, never by pytest (they time, they do not test)."""

collect_ignore_glob = ["*.py"]
