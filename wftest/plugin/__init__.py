"""The parts of the pytest plugin; `wftest.pytest_plugin` is its entry point."""
