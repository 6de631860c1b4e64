"""Every example of the seed page (Wippy's temporal workflows page) runs with its documented outcome.

The examples are rewritten as small apps: `examples/orders` (the order workflow), `fixtures/seed` (the ones
below that no other fixture covers), `fixtures/sim` and `fixtures/processes` (the rest, pinned in detail by
their own test files; here each is run once more in the order the page shows them). The HTTP-handler
example runs end to end in test_http.py (fixtures/http).
"""

from __future__ import annotations

from typing import Any

from checkout import HOUR, ROOT

from wftest import load_app
from wftest.sim import ActivityError, World

SEED = load_app(ROOT / "fixtures" / "seed")
SIM = load_app(ROOT / "fixtures" / "sim")
PROCESSES = load_app(ROOT / "fixtures" / "processes")
ORDERS = load_app(ROOT / "examples" / "orders")


def finish(world: World, workflow: str, *args: Any) -> Any:
    run = world.start(workflow, *args)
    world.run_until_closed(run)
    assert run.status == "completed", run.failure
    return run.result


def drive(app: Any, function: str) -> Any:
    world = World(app)
    process = world.run_process(function)
    world.run_until_idle(limit_ns=24 * HOUR)
    assert process.status == "finished", process.failure
    return process.result


def test_order_workflow_pays_waits_an_hour_and_ships() -> None:
    world = World(ORDERS)
    world.mock("app:charge_payment", {"id": "pay-1"})
    run = world.start("app:order_workflow", {"id": "o-1", "total": 50, "customer_id": "c-1"})
    world.run_until_closed(run)
    assert run.result == {"status": "completed", "payment_id": "pay-1", "tracking": "TRK-o-1"}
    assert run.elapsed_ns == HOUR


def test_order_workflow_refunds_when_shipping_fails() -> None:
    world = World(ORDERS)
    refunds: list[Any] = []
    world.mock("app:charge_payment", {"id": "pay-1"})
    world.mock("app:ship_order", error=ActivityError("no courier", kind="Unavailable", retryable=False))
    world.mock("app:refund_payment", lambda args, info: refunds.append(args) or True)
    run = world.start("app:order_workflow", {"id": "o-2", "total": 10})
    world.run_until_closed(run)
    assert run.result == {"status": "failed", "error": "no courier"}
    assert refunds == [["pay-1"]]


def test_workflow_module_examples() -> None:
    world = World(SIM)
    info = finish(world, "app.wf:info")
    assert info["type"] == "app.wf:info" and info["queue"] == "test-queue"
    assert finish(world, "app.wf:parent_exec")["ok"] == 42  # workflow.exec
    assert finish(world, "app.wf:versioned")["v"] == 3  # workflow.version
    attrs = finish(world, "app.wf:probe_attrs")  # workflow.attrs: search and memo; a nested value is Invalid
    assert (attrs["ok"], attrs["ok2"], attrs["kind"]) == (True, True, "Invalid")
    assert info["after"] > info["before"]  # history_length grows


def test_spawning_from_processes() -> None:
    assert drive(PROCESSES, "app:spawn_and_wait")["kind"] == "pid.exit"  # spawn_monitored + EXIT
    assert drive(PROCESSES, "app:startup_messages") == {"same": True, "final": 9}  # with_name, messages
    assert drive(PROCESSES, "app:talk_to_counter")["pid"].endswith("|counter-1}")  # explicit workflow id
    assert drive(PROCESSES, "app:conflicts")["second_kind"] == "AlreadyExists"  # conflict policy fail
    assert drive(PROCESSES, "app:replace_existing")["same_pid"] is True  # terminate_existing
    assert drive(PROCESSES, "app:start_options")["attempt"] == 3  # start options
    assert drive(PROCESSES, "app:with_context") == {"tenant": "t-1", "activity_sees": "t-1", "keys": "u-9"}


def test_a_test_process_spawns_signals_and_waits_with_a_deadline() -> None:
    """Wippy's own tests: spawn_monitored, process.send, then events vs time.after("5s") in a select."""
    assert drive(PROCESSES, "app:spawn_signal_wait") == {"kind": "pid.exit", "final": 7, "in_time": True}


def test_signal_examples() -> None:
    world = World(SIM)
    run = world.start("app.wf:approval", {"n": 1})  # inbox pattern
    world.signal(run, "approve", {"by": "ada"})
    world.run_until_closed(run)
    assert run.result["status"] == "approve"

    jobs = World(SEED)
    run = jobs.start("app:jobs")  # topic subscriptions in a select loop
    for job in ("a", "b"):
        jobs.signal(run, "add_job", {"id": job})
    jobs.signal(run, "exit")
    jobs.run_until_closed(run)
    assert run.result == {"total_jobs": 2, "ids": "a,b"}

    counter = world.start("app.wf:counter", {"initial": 1})  # several handlers in coroutines
    world.signal(counter, "add", 2)
    world.signal(counter, "sub", 1)
    world.signal(counter, "finish")
    world.run_until_closed(counter)
    assert counter.result["total"] == 2
    assert drive(PROCESSES, "app:talk_to_counter")["replies"] == "ack,ok"  # acknowledgement
    target = world.start("app.wf:counter", {"initial": 0}, workflow_id="target")  # cross-workflow
    assert finish(world, "app.wf:pinger", "target")["ok"] is True
    world.signal(target, "finish")


def test_children_examples() -> None:
    world = World(SIM)
    exec_result = finish(world, "app.wf:parent_exec")  # sync child, process.exec, error propagation
    assert (exec_result["kind"], exec_result["wrapper"]) == ("NotFound", "child_workflow")
    assert finish(world, "app.wf:parent_spawn", "abandon")["kind"] == "pid.exit"  # async child + EXIT
    assert drive(PROCESSES, "app:exec_hello") == {"greeting": "hello ada"}  # process.exec


def test_monitoring_linking_terminate_and_cancel() -> None:
    assert drive(SEED, "app:post_monitor") == {"monitored": True, "kind": "pid.exit", "value": 91250}
    assert drive(PROCESSES, "app:terminate_and_link")["kind"] == "pid.link.down"  # post-start link
    assert drive(SEED, "app:unmonitor_unlink") == {"quiet": True}
    assert drive(PROCESSES, "app:terminate_and_link")["exit_error"] == "Canceled"  # terminate
    assert drive(SEED, "app:cancel_with_deadline") == {
        "ok": True, "result": {"cancelled": True, "kind": "pid.cancel"}}


def test_concurrent_work_and_timers() -> None:
    world = World(SEED)
    assert finish(world, "app:work_queue", {"workers": 3, "jobs": 6}) == {"total": 42, "workers_used": 3}
    assert finish(world, "app:timers") == 91250  # elapsed milliseconds on the workflow clock


def test_determinism_examples() -> None:
    world = World(SEED)
    safe = finish(world, "app:replay_safe")
    # crypto.random_bytes is the page's spelling; this Wippy build has crypto.random.bytes
    assert safe == {"data": "payload", "hour": 1, "id_ok": True, "bytes": 16, "version": 2,
                    "old_name_exists": False}
    avoid = finish(world, "app:unprotected")
    assert avoid["io"] == "nil" and avoid["random_in_range"] is True
    assert avoid["os_time"] == world.get(world.runs[-1].workflow_id).start_ns // 10**9


def test_activity_failures_child_errors_and_saga() -> None:
    world = World(SIM)
    failed = finish(world, "app.wf:retry", 1)  # maximum_attempts = 1
    assert (failed["ok"], failed["kind"]) == (False, "Unavailable")
    world.mock("app.act:reserve", {"id": "r-1"})
    world.mock("app.act:charge", {"id": "p-1"})
    world.mock("app.act:ship", error=ActivityError("lost", kind="Unavailable", retryable=False))
    undone: list[str] = []
    world.mock("app.act:refund", lambda args, info: undone.append("refund") or True)
    world.mock("app.act:release", lambda args, info: undone.append("release") or True)
    assert finish(world, "app.wf:saga", {"id": "o", "items": [], "total": 1})["step"] == "ship"
    assert undone == ["refund", "release"]  # compensations in reverse order
