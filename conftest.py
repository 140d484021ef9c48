"""Project-wide test setup: pytester drives the plugin in isolated pytest runs."""

pytest_plugins = ["pytester"]
