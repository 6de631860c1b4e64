"""How a workflow execution serves the host commands its Lua yields: each kind (`wftest.lua.kinds`)
becomes Temporal commands of the task being built, and a reply now or when an event answers it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio.api.common.v1 import Payload

from wftest.encoding.jsontext import EncodeError, encode_json_python
from wftest.encoding.payloads import payload_to_python, python_to_payload
from wftest.history.failures import ErrorInfo, wippy_failure
from wftest.lua.kinds import Kind
from wftest.lua.process import HostCommand
from wftest.lua.sandbox import text
from wftest.worker import commands as cmd
from wftest.worker.options import OptionError, activity_options, child_options
from wftest.worker.workflow_state import (
    ExecutionState,
    PendingActivity,
    PendingChild,
    PendingTimer,
    WorkflowTaskError,
    parse_pid,
)

SIDE_EFFECT_MARKER = "SideEffect"
VERSION_MARKER = "Version"
CHANGE_VERSION_ATTRIBUTE = "TemporalChangeVersion"


class WorkflowCommands(ExecutionState):
    """Command handling: one method per kind of host command, through `_HANDLERS`."""

    def _execute(self, host: HostCommand) -> bool:
        """Execute one command; True when it was answered at once (the process must step again)."""
        t = host.table
        # Item access with bytes keys: much cheaper than lupa's attribute access on this hot path.
        kind = text(t[b"kind"])
        where_value = t[b"where"]
        where = text(where_value) if where_value is not None else "?"
        handler = _HANDLERS.get(kind)
        if handler is None:
            self.proc.reply(
                host.task,
                None,
                self._lua_error(
                    ErrorInfo(
                        "Internal", f"unsupported command '{kind}' in a workflow", False, None, None, None
                    )
                ),
            )
            return True
        return handler(self, host.task, t, where)

    def _activity(self, task: int, t: Any, where: str, *, future: bool) -> bool:
        target = text(t[b"target"])
        try:
            raw_options = t[b"options"]
            call_options = self.sb.values.to_python(raw_options) if raw_options is not None else None
            defaults = self.app.entries[target].call_options if target in self.app.entries else None
            options, explicit_id = activity_options(self.info.task_queue, defaults, call_options)  # type: ignore[arg-type]
            args = t[b"args"]
            to_payload = self.sb.values.to_payload
            payloads = tuple([to_payload(args[i]) for i in range(1, int(args[b"n"]) + 1)])
        except (OptionError, EncodeError) as exc:
            self.proc.reply(
                task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False, None, None, None))
            )
            return True
        assert self._task is not None
        seq = self._task.next_seq
        activity_id = explicit_id or str(seq)
        self._emit(
            cmd.ScheduleActivityTask,
            where,
            activity_id=activity_id,
            activity_type=target,
            input=payloads,
            options=options,
            header=self._header(),
        )
        if future:
            self._activities[seq] = PendingActivity(activity_id, target, future=seq)
            self.proc.reply(task, seq)
            return True
        self._activities[seq] = PendingActivity(activity_id, target, task=task)
        return False

    def _activity_call(self, task: int, t: Any, where: str) -> bool:
        return self._activity(task, t, where, future=False)

    def _activity_start(self, task: int, t: Any, where: str) -> bool:
        return self._activity(task, t, where, future=True)

    def _activity_cancel(self, task: int, t: Any, where: str) -> bool:
        """RequestCancelActivityTask for the future's activity. Also when the activity was
        scheduled in this same task (the SDK may drop both commands then [P]; wftest keeps them, so
        history ids stay those the code was given)."""
        seq = int(t.future)
        activity = self._activities.get(seq)
        if activity is not None and not activity.cancelled:
            activity.cancelled = True
            self._emit(cmd.RequestCancelActivityTask, where, scheduled_event_id=seq)
        self.proc.reply(task, True)
        return True

    def _sleep(self, task: int, t: Any, where: str) -> bool:
        duration = int(t[b"duration"])
        if duration <= 0:
            # no command; resolved at the next workflow task.
            self._completions.append((task, ()))
            return False
        self._start_timer(PendingTimer("sleep", task=task, duration_ns=duration), where)
        return False

    def _timer_start(self, task: int, t: Any, where: str, kind: str = "after") -> bool:
        timer = PendingTimer(kind, channel=int(t[b"channel"]), duration_ns=int(t[b"duration"]), where=where)
        timer_id = self._start_timer(timer, where)
        handle = timer.handle = int(timer_id)
        self._timer_by_handle[handle] = timer_id
        self.proc.reply(task, handle)
        return True

    def _ticker_start(self, task: int, t: Any, where: str) -> bool:
        return self._timer_start(task, t, where, kind="ticker")

    def _timer_stop(self, task: int, t: Any, where: str) -> bool:
        timer = self._timers.get(self._timer_by_handle.get(int(t.timer), ""))
        stopped = timer is not None and timer.alive
        if timer is not None:
            timer.alive = False  # no CancelTimer; a later fire is ignored
        self.proc.reply(task, stopped)
        return True

    def _timer_reset(self, task: int, t: Any, where: str) -> bool:
        handle = int(t.timer)
        old = self._timers.get(self._timer_by_handle.get(handle, ""))
        active = old is not None and old.alive
        channel = old.channel if old is not None else None
        if old is not None:
            old.alive = False
        if channel is not None:
            timer = PendingTimer("after", channel=channel, duration_ns=int(t.duration), handle=handle)
            self._timer_by_handle[handle] = self._start_timer(timer, where)
        self.proc.reply(task, active)
        return True

    def _side_effect(self, task: int, t: Any, where: str) -> bool:
        self._side_effects += 1
        sid = self._side_effects
        args = t.args
        # Lua strings stay bytes: keys and plaintexts of crypto.encrypt.* are binary.
        values = tuple(
            a if isinstance(a, bytes) else self.sb.values.to_python(a)
            for a in (args[i] for i in range(1, int(args.n) + 1))
        )
        assert self._resolver is not None
        try:
            payload = self._resolver.side_effect(sid, text(t.name), values)
        except WorkflowTaskError as exc:
            exc.where = exc.where or where
            raise
        self._emit(
            cmd.RecordMarker,
            where,
            marker_name=SIDE_EFFECT_MARKER,
            details={"side-effect-id": python_to_payload(sid), "data": payload},
            summary="workflow.sideEffect",
        )
        self.proc.reply(task, self.sb.values.from_payload(payload), None)
        return True

    def _version(self, task: int, t: Any, where: str) -> bool:
        change_id = text(t.change_id)
        low, high = int(t.min), int(t.max)
        if change_id in self._versions:
            self.proc.reply(task, self._versions[change_id], None)
            return True
        assert self._resolver is not None
        version, record = self._resolver.version(change_id, low, high)
        if not low <= version <= high:
            raise WorkflowTaskError(
                f"workflow.version({change_id!r}, {low}, {high}): history has version {version}, "
                "which this code no longer supports",
                where=where,
                expected=(
                    f"version {version} of {change_id!r}"
                    if version != -1
                    else f"no Version marker for {change_id!r} (DefaultVersion -1)"
                ),
                actual=f"versions {low}..{high} of {change_id!r}",
            )
        self._versions[change_id] = version
        if record:
            known = [f"{c}-{v}" for c, v in self._versions.items() if c != change_id]
            self._emit(
                cmd.RecordMarker,
                where,
                marker_name=VERSION_MARKER,
                details={"change-id": python_to_payload(change_id), "version": python_to_payload(version)},
            )
            self._emit(
                cmd.UpsertWorkflowSearchAttributes,
                where,
                attributes={CHANGE_VERSION_ATTRIBUTE: python_to_payload([f"{change_id}-{version}", *known])},
            )
        self.proc.reply(task, version, None)
        return True

    def _attrs(self, task: int, t: Any, where: str) -> bool:
        try:
            search = (
                search_attribute_payloads(self.sb.values.to_python(t.search))
                if t.search is not None
                else None
            )
            memo = self.sb.values.to_python(t.memo) if t.memo is not None else None
        except (ValueError, EncodeError) as exc:
            self.proc.reply(
                task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False, None, None, None))
            )
            return True
        if search is not None:
            self._emit(cmd.UpsertWorkflowSearchAttributes, where, attributes=search)
        if memo is not None:
            assert isinstance(memo, dict)
            self._emit(
                cmd.ModifyWorkflowProperties,
                where,
                memo={k: python_to_payload(v) for k, v in sorted(memo.items())},
            )
        self.proc.reply(task, True, None)
        return True

    def _process_send(self, task: int, t: Any, where: str) -> bool:
        """A Temporal target gets SignalExternalWorkflowExecution (answered at a later task); a
        local process gets a SideEffect marker; anything that is not a PID is NotFound."""
        dest, topic = text(t.dest), text(t.topic)
        target = parse_pid(dest)
        if target is None and dest and self._send_to_name(task, t, where, dest):
            return True
        if target is None:
            self.proc.reply(
                task,
                None,
                self._lua_error(
                    ErrorInfo(
                        "NotFound",
                        f"could not resolve '{dest}' as PID or registered name",
                        False,
                        None,
                        None,
                        None,
                    )
                ),
            )
            return True
        node, host, uniq = target
        args = t.args
        if node == "update" and not host:
            return self._update_reply(task, t, where, uniq)
        payloads = tuple(self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1))
        if node == self.info.client_id or host in (self.info.worker_id, "temporal"):
            assert self._task is not None
            self._signals[self._task.next_seq] = task
            header = {
                "wippy-context": python_to_payload({**self.context, "temporal.signal.from": self.info.pid})
            }
            self._emit(
                cmd.SignalExternalWorkflowExecution,
                where,
                namespace="",
                workflow_id=uniq,
                signal_name=topic,
                input=payloads,
                header=header,
            )
            return False
        self._side_effects += 1
        self._emit(
            cmd.RecordMarker,
            where,
            marker_name=SIDE_EFFECT_MARKER,
            details={
                "side-effect-id": python_to_payload(self._side_effects),
                "data": python_to_payload(True),
            },
            summary="process.send",
        )
        if self.local_send is not None:
            # Delivered only now, on first execution; a replay finds the marker and sends nothing.
            self.local_send(
                dest,
                topic,
                tuple(self.sb.values.to_python(args[i]) for i in range(1, int(args.n) + 1)),
                self.info.pid,
            )
        self.proc.reply(task, True, None)
        return True

    def _send_to_name(self, task: int, t: Any, where: str, name: str) -> bool:
        """A registered name of a local process: the PID it resolves to is recorded as the data of the
        send's SideEffect marker, so a replay reads it from the history (the registry is not there). A
        name that does not resolve records nothing (False)."""
        assert self._resolver is not None
        sid = self._side_effects + 1
        try:
            payload = self._resolver.side_effect(sid, "process.send", (name,))
        except WorkflowTaskError:
            return False  # replay: nothing recorded here, the name did not resolve
        pid = payload_to_python(payload)
        if not isinstance(pid, str) or parse_pid(pid) is None:
            return False
        self._side_effects = sid
        self._emit(
            cmd.RecordMarker,
            where,
            marker_name=SIDE_EFFECT_MARKER,
            details={"side-effect-id": python_to_payload(sid), "data": payload},
            summary="process.send",
        )
        if self.local_send is not None:
            args = t.args
            values = tuple(self.sb.values.to_python(args[i]) for i in range(1, int(args.n) + 1))
            self.local_send(pid, text(t.topic), values, self.info.pid)
        self.proc.reply(task, True, None)
        return True

    def _update_reply(self, task: int, t: Any, where: str, update_id: str) -> bool:
        """`ack` → accept, `nak` (reason) → reject, `ok` (result) / `error` (message) → complete."""
        topic = text(t.topic)
        args = t.args
        first = args[1] if int(args.n) >= 1 else None
        if topic == "ack":
            self._emit(cmd.UpdateResponse, where, update_id=update_id, outcome="accept")
        elif topic == "nak":
            reason = text(first) if isinstance(first, bytes) else ""
            self._emit(cmd.UpdateResponse, where, ids=0, update_id=update_id, outcome="reject", reason=reason)
        elif topic == "ok":
            self._emit(
                cmd.UpdateResponse,
                where,
                update_id=update_id,
                outcome="complete",
                result=self.sb.values.to_payload(first),
            )
        elif topic == "error":
            message = text(first) if isinstance(first, bytes) else "update failed"
            self._emit(
                cmd.UpdateResponse,
                where,
                update_id=update_id,
                outcome="complete",
                failure=wippy_failure(ErrorInfo("Internal", message, False)),
            )
        else:
            return self._reply_invalid(
                task, f"unsupported update reply topic '{topic}' (ack, nak, ok, error)"
            )
        self.proc.reply(task, True, None)
        return True

    def _reply_invalid(self, task: int, message: str) -> bool:
        self.proc.reply(task, None, self._lua_error(ErrorInfo("Invalid", message, False)))
        return True

    def _child(self, task: int, t: Any, where: str, *, spawn: bool) -> bool:
        target = text(t.target)
        host = text(t.host) if t.host is not None else None
        try:
            raw_options = self.sb.values.to_python(t.options) if t.options is not None else None
            options = child_options(raw_options if isinstance(raw_options, dict) else None)
            overlay = self.sb.values.to_python(t.context) if t.context is not None else {}
            args = t.args
            payloads = tuple(self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1))
        except (OptionError, EncodeError) as exc:
            self.proc.reply(task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False)))
            return True
        assert self._task is not None
        seq = self._task.next_seq
        workflow_id = options.pop("workflow_id", None) or f"{self.info.run_id}_{seq}"
        context = {**self.context, **(overlay if isinstance(overlay, dict) else {})}
        header = {"wippy-context": python_to_payload(context)} if context else {}
        self._emit(
            cmd.StartChildWorkflowExecution,
            where,
            namespace="",
            workflow_id=workflow_id,
            workflow_type=target,
            task_queue=host or self.info.task_queue,
            input=payloads,
            header=header,
            **options,
        )
        pid = f"{{{self.info.client_id}@{host or self.info.worker_id}|{workflow_id}}}"
        self._children[seq] = PendingChild(workflow_id, target, pid, spawn, task=task)
        return False

    def _child_exec(self, task: int, t: Any, where: str) -> bool:
        return self._child(task, t, where, spawn=False)

    def _child_spawn(self, task: int, t: Any, where: str) -> bool:
        return self._child(task, t, where, spawn=True)

    def _continue_as_new(self, task: int, t: Any, where: str) -> bool:
        args = t.args
        try:
            payloads = tuple(self.sb.values.to_payload(args[i]) for i in range(1, int(args.n) + 1))
        except EncodeError as exc:
            self.proc.reply(task, None, self._lua_error(ErrorInfo("Invalid", str(exc), False)))
            return True
        self._emit(
            cmd.ContinueAsNewWorkflowExecution,
            where,
            workflow_type=text(t.target) if t.target is not None else self.entry.id,
            task_queue=self.info.task_queue,
            input=payloads,
            header=self._header(),
        )
        self.closed = True
        self.proc.kill_all()
        return False

    def _process_cancel(self, task: int, t: Any, where: str) -> bool:
        dest = text(t.dest)
        target = parse_pid(dest)
        if target is None:
            self.proc.reply(
                task,
                None,
                self._lua_error(
                    ErrorInfo("Internal", f"could not resolve '{dest}' as PID or registered name", False)
                ),
            )
            return True
        assert self._task is not None
        self._signals[self._task.next_seq] = task
        self._emit(cmd.RequestCancelExternalWorkflowExecution, where, namespace="", workflow_id=target[2])
        return False


def search_attribute_payloads(values: Any) -> dict[str, Payload]:
    """Typed search attributes (payload metadata `type`)."""
    if not isinstance(values, dict):
        raise ValueError("search must be a table of name = value")
    out: dict[str, Payload] = {}
    for name in sorted(values):
        value = values[name]
        if isinstance(value, bool):
            kind = "Bool"
        elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            kind, value = "Int", int(value)
        elif isinstance(value, float):
            kind = "Double"
        elif isinstance(value, str):
            kind = "Keyword"
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            kind = "KeywordList"
        else:
            raise ValueError(f"search attribute {name!r}: unsupported value type {type(value).__name__}")
        payload = Payload(
            metadata={"encoding": b"json/plain", "type": kind.encode()},
            data=encode_json_python(value).encode(),
        )
        out[name] = payload
    return out


#: The workflow's answer to each kind of host command its Lua can yield.
_HANDLERS: dict[str, Callable[[WorkflowCommands, int, Any, str], bool]] = {
    Kind.activity_call: WorkflowCommands._activity_call,
    Kind.activity_start: WorkflowCommands._activity_start,
    Kind.activity_cancel: WorkflowCommands._activity_cancel,
    Kind.timer_sleep: WorkflowCommands._sleep,
    Kind.timer_start: WorkflowCommands._timer_start,
    Kind.timer_stop: WorkflowCommands._timer_stop,
    Kind.timer_reset: WorkflowCommands._timer_reset,
    Kind.ticker_start: WorkflowCommands._ticker_start,
    Kind.ticker_stop: WorkflowCommands._timer_stop,
    Kind.side_effect: WorkflowCommands._side_effect,
    Kind.version: WorkflowCommands._version,
    Kind.attrs: WorkflowCommands._attrs,
    Kind.process_send: WorkflowCommands._process_send,
    Kind.process_cancel: WorkflowCommands._process_cancel,
    Kind.child_exec: WorkflowCommands._child_exec,
    Kind.child_spawn: WorkflowCommands._child_spawn,
    Kind.continue_as_new: WorkflowCommands._continue_as_new,
}
