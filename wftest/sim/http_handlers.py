"""Endpoint handlers of the app's HTTP service, run as plain processes of the world on its clock."""

from __future__ import annotations

import json as jsonlib
from typing import TYPE_CHECKING

from wftest.app import LuaEntry
from wftest.history.failures import ErrorInfo
from wftest.lua.compiler import CompileError
from wftest.lua.sandbox import LoadError, LuaFailure, NoHostError
from wftest.sim.http import Route, WorldHttp
from wftest.sim.http_messages import Exchange, HttpError, HttpResponse
from wftest.sim.services import Clock

if TYPE_CHECKING:
    from wftest.sim.process_table import ProcessTable


class ProcessHttp(WorldHttp):
    """A world's HTTP whose endpoint handlers run among its plain processes."""

    def __init__(self, clock: Clock, processes: ProcessTable) -> None:
        super().__init__(clock.app)
        self.clock = clock
        self.processes = processes

    def _run_handler(self, route: Route, exchange: Exchange, nested: bool) -> HttpResponse:
        """The handler runs as a plain process of the world, so what it spawns runs there and can
        message it; called from the test, the clock moves until it answers (factory.go decides what its
        outcome becomes)."""
        entry = self.app.entries.get(route.func_id)
        if not isinstance(entry, LuaEntry) or not entry.kind.startswith("function."):
            what = "not an entry of the app" if entry is None else f"a {entry.kind} entry"
            raise HttpError(
                f"endpoint {route.endpoint_id} calls '{route.func_id}', which is {what}, not a function entry"
            )
        try:
            process = self.processes.start(entry, (), host=route.service_id)
        except (LuaFailure, LoadError, NoHostError, CompileError) as exc:
            return self._failed(exchange, route, str(exc))
        key = id(process.sb)
        self.exchanges[key] = exchange
        try:
            process.step()
            if not process.run.closed and not nested:
                clock = self.clock
                while not process.run.closed and (due := clock.agenda.next_due()) is not None:
                    clock.advance(due - clock.now_ns)
            run = process.run
            if not run.closed:
                waiting = process.proc.waiting() or "something that never comes"
                process.kill(ErrorInfo("Canceled", "the HTTP handler never answered", False))
                how = (
                    "a handler called from Lua must answer without waiting"
                    if nested
                    else "nothing left in the test's world can wake it"
                )
                raise HttpError(
                    f"endpoint {route.endpoint_id} ({entry.id}) never answered: it waits on {waiting}; {how}"
                )
        finally:
            self.exchanges.pop(key, None)
        if run.status == "failed":
            return self._failed(exchange, route, str(run.failure))
        if exchange.handled:
            return exchange.response()
        if run.error is not None:
            return self._failed(exchange, route, str(run.error))
        if run.result is not None:
            exchange.header.set("Content-Type", "application/json")
            exchange.write(jsonlib.dumps(run.result, separators=(",", ":")).encode())
            return exchange.response()
        exchange.error("no response sent")
        return exchange.response()

