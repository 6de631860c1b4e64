"""Line coverage of the Lua code under test, reported by coverage.py next to Python's (`--lua-cov`)."""

PLUGIN_MODULE = "wftest.coverage_plugin"  # the coverage.py plugin module to name in its configuration
PLUGIN_NAME = f"{PLUGIN_MODULE}.LuaPlugin"  # what coverage.py's data names as the Lua files' reporter
