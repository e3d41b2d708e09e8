"""Benchmarks, run by hand (see each module's docstring); not part of the test suite."""
