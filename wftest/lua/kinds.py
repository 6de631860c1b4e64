"""The kinds of host command that Lua yields to the Python driving it: one table for both sides."""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """A host command's `kind`. Lua names it `KIND.<member>` (each Lua state gets the table once,
    and the prelude hands it on as `api.KIND`); the workflow execution and the process host dispatch on the
    value, which is also what error messages quote."""

    # funcs: activities in a workflow, function calls in a plain process
    activity_call = "activity.call"
    activity_start = "activity.start"
    activity_cancel = "activity.cancel"
    # time
    timer_sleep = "timer.sleep"
    timer_start = "timer.start"
    timer_stop = "timer.stop"
    timer_reset = "timer.reset"
    ticker_start = "ticker.start"
    ticker_stop = "ticker.stop"
    # workflow-only: markers and attributes
    side_effect = "side_effect"
    version = "version"
    attrs = "attrs"
    # process, in a workflow: messages become signals, children are child workflows
    process_send = "process.send"
    process_cancel = "process.cancel"
    child_exec = "child.exec"
    child_spawn = "child.spawn"
    continue_as_new = "continue_as_new"
    # process, in a plain process: spawning, monitors and links, the name registry
    proc_spawn = "proc.spawn"
    proc_exec = "proc.exec"
    proc_monitor = "proc.monitor"
    proc_link = "proc.link"
    proc_terminate = "proc.terminate"
    proc_cancel = "proc.cancel"
    proc_register = "proc.register"
    proc_lookup = "proc.lookup"
    proc_unregister = "proc.unregister"
