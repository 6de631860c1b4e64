"""A work queue inside a workflow: worker coroutines take jobs from a channel, call an activity each
(fan-out) and report on another channel (fan-in)."""

from datetime import timedelta

import pytest
from syrupy.assertion import SnapshotAssertion

from wftest.testing import Wippy

pytestmark = pytest.mark.wippy_app("..")

IMAGES = ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"]


def thumbnail(image: str) -> dict[str, str]:
    return {"url": f"https://cdn.example/thumbs/{image}"}


def expected(images: list[str]) -> list[dict[str, str]]:
    return [{"image": image, **thumbnail(image)} for image in images]


def started_at(wippy: Wippy) -> list[timedelta]:
    """When each activity attempt started, from the test's start."""
    start = wippy.start_ns
    return [timedelta(microseconds=(c.info.now_ns - start) // 1000) for c in wippy.calls.calls]


async def test_three_workers_share_six_jobs(wippy: Wippy) -> None:
    wippy.mock("app:make_thumbnail").calls(thumbnail).after("10s")

    result = await wippy.execute("app:thumbnails", {"images": IMAGES, "workers": 3})

    assert result == expected(IMAGES)
    assert started_at(wippy) == [timedelta(0)] * 3 + [timedelta(seconds=10)] * 3
    assert wippy.elapsed == timedelta(seconds=20)  # one after another it would take a minute


async def test_one_worker_takes_the_jobs_one_by_one(wippy: Wippy) -> None:
    wippy.mock("app:make_thumbnail").calls(thumbnail).after("10s")

    result = await wippy.execute("app:thumbnails", {"images": IMAGES, "workers": 1})

    assert result == expected(IMAGES)
    assert wippy.elapsed == timedelta(minutes=1)


async def test_results_come_back_in_input_order_whatever_finishes_first(
    wippy: Wippy, snapshot: SnapshotAssertion
) -> None:
    make = wippy.mock("app:make_thumbnail")
    make.when("big.png").calls(thumbnail).after("1m")
    make.calls(thumbnail).after("5s")
    images = ["big.png", "a.png", "b.png", "c.png"]

    handle = await wippy.start("app:thumbnails", {"images": images}, id="batch-1")

    assert await handle.result() == expected(images)
    assert handle.elapsed == timedelta(minutes=1)
    assert handle.history == snapshot  # "big.png" is scheduled first and completes last


async def test_a_failing_image_is_reported_and_the_rest_are_made(wippy: Wippy) -> None:
    make = wippy.mock("app:make_thumbnail")
    make.when("c.png").fails("Invalid", "not an image")
    make.calls(thumbnail)

    result = await wippy.execute("app:thumbnails", {"images": IMAGES})

    assert result[2] == {"image": "c.png", "error": "not an image"}
    assert [r for i, r in enumerate(result) if i != 2] == expected(IMAGES[:2] + IMAGES[3:])
    assert [c.info.attempt for c in make.calls_made if c.args == ("c.png",)] == [1, 2]


async def test_an_empty_batch(wippy: Wippy) -> None:
    assert await wippy.execute("app:thumbnails", {"images": []}) == []
    wippy.mock("app:make_thumbnail").assert_not_called()


async def test_any_completion_order_gives_the_same_answer(wippy: Wippy) -> None:
    async def batch(wippy: Wippy) -> None:
        wippy.mock("app:make_thumbnail").takes_between("1s", "2m").calls(thumbnail)
        assert await wippy.execute("app:thumbnails", {"images": IMAGES}) == expected(IMAGES)

    report = await wippy.explore(batch, seeds=4)
    assert report.distinct_orderings > 1  # the jobs really did finish in different orders
