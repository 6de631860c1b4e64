"""A process service that starts and supervises workflows: jobs are submitted to it by registered name,
each runs as a workflow, a failed job is restarted once, and the submitter hears how its job ended."""

import pytest

from wftest.testing import Wippy

pytestmark = pytest.mark.wippy_app("..")


async def start_service(wippy: Wippy):  # type: ignore[no-untyped-def]
    service = wippy.spawn("app:dispatcher", host="app:services")
    await wippy.sleep("1s")  # it registers its name
    return service


async def test_each_submitted_job_runs_as_a_workflow_and_is_reported(wippy: Wippy) -> None:
    wippy.mock("app:process_job").calls(lambda job, info: job["text"].upper())
    service = await start_service(wippy)
    client = wippy.mailbox()
    await wippy.send("jobs", "submit", {"id": "a", "input": {"text": "one"}}, sender=client)
    await wippy.send("jobs", "submit", {"id": "b", "input": {"text": "two"}}, sender=client)
    await wippy.sleep("1h")
    assert sorted((m.topic, m.payload["id"], m.payload["result"]["output"]) for m in client.messages) == [
        ("done", "a", "ONE"),
        ("done", "b", "TWO"),
    ]
    assert (await wippy.get("a-1").result()) == {"output": "ONE"}
    assert wippy.get("a-1").elapsed.total_seconds() == 600  # the job's 10 minute settle time
    await service.cancel("shutdown")
    assert await service.result() == {"done": 2, "failed": 0, "restarted": 0, "progress": 2}


async def test_a_failed_job_is_restarted_once(wippy: Wippy) -> None:
    wippy.mock("app:process_job").fails("Unavailable", "scanner busy", retryable=False).then_returns("OK")
    service = await start_service(wippy)
    client = wippy.mailbox()
    wippy.at("5s").send("jobs", "submit", {"id": "c", "input": {"text": "x"}}, sender=client)
    await wippy.sleep("1h")
    assert [(m.topic, m.payload) for m in client.messages] == [
        ("done", {"id": "c", "result": {"output": "OK"}, "attempts": 2}),
    ]
    assert wippy.get("c-1").status == "failed" and wippy.get("c-2").status == "completed"
    await service.cancel()
    assert (await service.result())["restarted"] == 1


async def test_a_job_that_keeps_failing_is_reported_failed(wippy: Wippy) -> None:
    wippy.mock("app:process_job").fails("Unavailable", "scanner broken", retryable=False)
    service = await start_service(wippy)
    client = wippy.mailbox()
    await wippy.send("jobs", "submit", {"id": "d", "input": {"text": "x"}}, sender=client)
    await wippy.sleep("1h")
    [message] = client.messages
    assert message.topic == "failed" and message.payload["id"] == "d"
    assert "scanner broken" in message.payload["error"]
    await service.cancel()
    assert await service.result() == {"done": 0, "failed": 1, "restarted": 1, "progress": 2}


async def test_the_service_waits_for_work_until_cancelled(wippy: Wippy) -> None:
    service = await start_service(wippy)
    await wippy.sleep("24h")
    assert service.status == "running"
    await service.terminate()
    assert service.status == "failed"


async def test_jobs_end_the_same_under_explored_timing_and_worker_crashes(wippy: Wippy) -> None:
    # Each seed varies how long the activity takes and crashes the worker after workflow tasks (the
    # workflow resumes from its history); the service's replies must not change. A seed run twice
    # gives the same histories.
    histories: dict[int, list[bytes]] = {}

    async def scenario(w: Wippy) -> None:
        w.mock("app:process_job").takes_between("1s", "4m").calls(lambda job, info: job["text"].upper())
        service = await start_service(w)
        client = w.mailbox()
        for job_id in ("a", "b", "c"):
            await w.send("jobs", "submit", {"id": job_id, "input": {"text": job_id}}, sender=client)
        await w.sleep("2h")
        assert sorted((m.topic, m.payload["id"]) for m in client.messages) == [
            ("done", "a"), ("done", "b"), ("done", "c"),
        ]
        await service.cancel()
        assert (await service.result())["done"] == 3
        runs = w.world.all_runs()
        histories.setdefault(len(histories), [r.history.SerializeToString() for r in runs])

    report = await wippy.explore(scenario, seeds=[1, 2, 3], crashes="every")
    assert report.ok
    first = dict(histories)
    histories.clear()
    await wippy.explore(scenario, seeds=[1, 2, 3], crashes="every")
    assert histories == first
