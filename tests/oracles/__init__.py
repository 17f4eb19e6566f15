"""Independent reference implementations the tests (and bench/) hold the package to."""
