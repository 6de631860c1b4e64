"""The Wippy modules a world serves from its own resources: `sql`, `store` and `env` on the app's
database, store and env entries (`wftest.sim.resources`), `http` and `http_client` on its HTTP
(`wftest.sim.http`). A sandbox gets them through its `providers`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wftest.lua.sandbox import Sandbox
from wftest.sim.modules.env import open_env
from wftest.sim.modules.http import open_http, open_http_client
from wftest.sim.modules.sql import open_sql
from wftest.sim.modules.store import open_store
from wftest.sim.resources import Resources


def providers(resources: Resources) -> dict[str, Callable[[Sandbox], Any]]:
    """Module openers serving these resources, for a sandbox's `providers`."""
    served: dict[str, Callable[[Sandbox], Any]] = {
        "sql": lambda sb: open_sql(sb, resources),
        "store": lambda sb: open_store(sb, resources),
        "env": lambda sb: open_env(sb, resources),
    }
    web = resources.http
    if web is not None:
        served["http"] = lambda sb: open_http(sb, web)
        served["http_client"] = lambda sb: open_http_client(sb, web)
    return served
