"""Records the version 1 histories the replay tests use, with the simulator and v1's code:

    python examples/versioning/record_v1.py

The output is the same bytes on every run (fixed virtual clock, ids and seed), so the files in
histories/ change only when this script or v1 does. In a real project these files would be exported
from Temporal (`temporal workflow show -o json`); the replay test does not care where they came from.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from wftest import load_app
from wftest.testing import Wippy

HERE = Path(__file__).resolve().parent
ORDER = {"id": "o-1", "amount": 42.5}


async def paid(wippy: Wippy) -> str:
    """An order that went through: charged, an hour later the receipt."""
    wippy.mock("app:charge_card").returns({"id": "pay-1"})
    wippy.mock("app:send_receipt").returns(True)
    handle = await wippy.start("app:checkout", ORDER, id="order-paid")
    await handle.result()
    return handle.history.json()


async def declined(wippy: Wippy) -> str:
    """An order whose card was declined."""
    wippy.mock("app:charge_card").fails("Invalid", "card declined", retryable=False)
    handle = await wippy.start("app:checkout", ORDER, id="order-declined")
    await handle.result()
    return handle.history.json()


async def in_flight(wippy: Wippy) -> str:
    """An order still sleeping when v2 is deployed: v2's worker must pick it up from this history."""
    wippy.mock("app:charge_card").returns({"id": "pay-2"})
    handle = await wippy.start("app:checkout", ORDER, id="order-in-flight")
    await wippy.sleep("30m")
    return handle.history.json()


SCENARIOS = {"v1-completed.json": paid, "v1-declined.json": declined, "v1-in-flight.json": in_flight}


def record() -> dict[str, str]:
    """Each history's file name and JSON text, each recorded in a fresh world."""
    app = load_app(HERE / "v1")
    return {name: asyncio.run(scenario(Wippy(app))) for name, scenario in SCENARIOS.items()}


def main() -> None:
    folder = HERE / "histories"
    folder.mkdir(exist_ok=True)
    for name, text in record().items():
        (folder / name).write_text(text)
        print(f"wrote {folder / name}")


if __name__ == "__main__":
    main()
