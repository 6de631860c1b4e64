"""wftest: deterministic testing and simulation for Wippy Lua workflows."""
