"""The catalogue of Wippy modules: which exist, their determinism class, and who provides them.

Workflows may only `require` modules of class `deterministic` or `workflow`. Modules that
reach the outside world are known by name so the error can say so, but wftest does not provide them:
an activity that needs one should be mocked. `sql`, `store`, `env`, `http` and `http_client` are the
exception: a test world serves them to activities and processes from its own resources
(`wftest.sim.resources`, `wftest.sim.http`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from wftest.app import App, LuaEntry
from wftest.errors import UserError

Opener = Callable[[Any], Any]
"""Makes a module's Lua value for the sandbox it is given. The catalogue only hands the sandbox on, so it
need not know the sandbox's type (which would tie it back to the sandbox that reads the catalogue)."""

DETERMINISTIC = "deterministic"
WORKFLOW = "workflow"
NONDETERMINISTIC = "nondeterministic"
PROCESS = "process"
WORKFLOW_CLASSES = frozenset({DETERMINISTIC, WORKFLOW})


@dataclass(frozen=True)
class ModuleSpec:
    """One Wippy module: its class and the `module:function` path of its opener (None: not provided)."""

    name: str
    wippy_class: str
    opener: str | None
    note: str = ""

    def open(self, sandbox: object) -> Any:
        """The module's value, made by its opener for `sandbox` (a `wftest.lua.sandbox.Sandbox`)."""
        if self.opener is None:
            raise ModuleUnavailable(self.name, self.note or "wftest does not provide it")
        module_name, _, func = self.opener.partition(":")
        opener: Opener = getattr(importlib.import_module(module_name), func)
        return opener(sandbox)


class ModuleUnavailable(UserError):
    """A known Wippy module that this context cannot offer."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"module '{name}' is not available: {why}")
        self.name = name


_RUNTIME = "it belongs to the workflow/process runtime and is only available when one drives this code"
_OUTSIDE = "it reaches the outside world; mock the activity that uses it"
_NOT_BUILT = "wftest does not implement it yet"
_HTTP = (
    "it reaches HTTP, which a test world serves (the app's own endpoints in-process, route fakes for "
    "other addresses): run the code as an activity, a process or an endpoint handler"
)
_RESOURCES = (
    "it reaches the app's resources, which a test world provides: run the code as an activity or a process"
)

_SPECS = [
    ModuleSpec("json", DETERMINISTIC, "wftest.lua.modules.json_codec:open_json"),
    ModuleSpec("base64", DETERMINISTIC, "wftest.lua.modules.base64_codec:open_base64"),
    ModuleSpec("hash", DETERMINISTIC, "wftest.lua.modules.hashing:open_hash"),
    ModuleSpec("yaml", DETERMINISTIC, "wftest.lua.modules.yaml_codec:open_yaml"),
    ModuleSpec("uuid", DETERMINISTIC, "wftest.lua.modules.ids:open_uuid"),
    ModuleSpec("crypto", DETERMINISTIC, "wftest.lua.modules.ids:open_crypto"),
    ModuleSpec("compress", DETERMINISTIC, "wftest.lua.modules.compress:open_compress"),
    ModuleSpec("ctx", DETERMINISTIC, "wftest.lua.modules.context:open_ctx"),
    ModuleSpec("time", WORKFLOW, "wftest.lua.modules.time:open_time"),
    ModuleSpec("funcs", WORKFLOW, None, _RUNTIME),
    ModuleSpec("workflow", WORKFLOW, None, _RUNTIME),
    ModuleSpec("process", WORKFLOW, None, _RUNTIME),
    ModuleSpec("payload", DETERMINISTIC, "wftest.lua.modules.payload:open_payload"),
    # Globals of every Wippy entry that may also be listed (engine/core_modules.go): `require` finds
    # them among the globals, so they have no opener here.
    ModuleSpec("os", WORKFLOW, None, "it is a global"),
    ModuleSpec("channel", PROCESS, None, "it is a global of processes"),
    *(
        ModuleSpec(n, DETERMINISTIC, None, _NOT_BUILT)
        for n in ("html", "text", "templates", "expr", "treesitter", "contract")
    ),
    *(
        ModuleSpec(n, NONDETERMINISTIC, None, _OUTSIDE)
        for n in (
            "fs",
            "events",
            "queue",
            "exec",
            "security",
            "registry",
            "io",
            "system",
            "websocket",
            "cloudstorage",
            "excel",
            "stream",
        )
    ),
    # Served by the world's resources (wftest.sim.modules) through the sandbox's providers.
    *(ModuleSpec(n, NONDETERMINISTIC, None, _RESOURCES) for n in ("sql", "store", "env")),
    # Served by the world's HTTP (wftest.sim.http): the app's own service in-process, route fakes else.
    *(ModuleSpec(n, NONDETERMINISTIC, None, _HTTP) for n in ("http", "http_client")),
    ModuleSpec("logger", NONDETERMINISTIC, "wftest.lua.modules.logger:open_logger"),
]

CATALOGUE: dict[str, ModuleSpec] = {s.name: s for s in _SPECS}

#: Modules that are globals in Wippy: listed or not, `require` returns the global.
GLOBAL_MODULES = frozenset({"os", "channel", "payload"})

#: Globals of every Wippy entry that `require` finds without their being listed (Wippy's `require` looks
#: names up in the globals: engine/loadlib/loadlib.go, engine/core_modules.go, engine/cached_libs.go).
REQUIRABLE_GLOBALS = GLOBAL_MODULES | {
    "errors", "string", "table", "math", "coroutine", "print", "subscribe", "unsubscribe",
}


def lookup(name: str) -> ModuleSpec | None:
    return CATALOGUE.get(name)


def module_problems(app: App, entry: LuaEntry, workflow: bool, chain: tuple[str, ...] = ()) -> Iterable[str]:
    """Every module/import problem of `entry` and the libraries it imports, as `file:line: message`."""
    chain = (*chain, entry.id)
    where = f"{entry.file}:{entry.line}"
    for name in entry.modules:
        spec = CATALOGUE.get(name)
        if spec is None:
            yield f"{where}: {entry.id}: unknown module '{name}'"
        elif workflow and spec.wippy_class not in WORKFLOW_CLASSES:
            owner = f"imported by workflow {chain[0]}" if len(chain) > 1 else "a workflow"
            yield (
                f"{where}: {entry.id}: module '{name}' does not have any allowed class "
                f"({owner}; workflows may only use deterministic or workflow modules, "
                f"'{name}' is {spec.wippy_class})"
            )
    for alias, target in entry.imports.items():
        library = app.entries.get(target)
        if library is None:
            if not target.startswith("wippy."):
                yield f"{where}: {entry.id}: import '{alias}' names unknown entry '{target}'"
        elif isinstance(library, LuaEntry) and target not in chain:
            yield from module_problems(app, library, workflow, chain)
