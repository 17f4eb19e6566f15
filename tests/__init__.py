"""The test suite: a package, so that `tests.helpers` and `tests.oracles` import by name."""
