"""The workshop's tests: a package, so shared code is imported from `tests.support`."""
