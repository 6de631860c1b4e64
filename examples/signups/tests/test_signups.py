"""A signup API: POST /api/signups starts a workflow (202, or 409 for an email already signing up) whose
activities write to SQLite and call a mail service. The endpoints run in-process (`wippy.http`), the
workflow in the test's world, the database is the test's own in-memory one, and the mail service is a
route fake (`wippy.http_routes`): nothing reaches the network."""

import pytest

from wftest.testing import HttpRequest, Wippy

pytestmark = pytest.mark.wippy_app("..")

MAIL = "https://mail.example.com/v1/send"


async def test_a_signup_is_saved_and_welcomed(wippy: Wippy) -> None:
    mail = wippy.http_routes.post(MAIL, json={"queued": True})
    response = await wippy.http.post("/api/signups", json={"email": "ada@example.com", "name": "Ada"})
    assert response.status == 202
    assert response.header("Content-Type") == "application/json"
    handle = wippy.get("signup-ada@example.com")
    assert response.json() == {"workflow": handle.pid}
    assert await handle.result() == {"status": "welcomed"}

    mail.assert_called_once()
    assert mail.calls[0].json() == {"to": "ada@example.com", "template": "welcome"}
    rows = wippy.sql_connection("app:db").execute("SELECT email, name, status FROM signups").fetchall()
    assert rows == [("ada@example.com", "Ada", "welcomed")]


async def test_the_same_email_twice_is_a_conflict(wippy: Wippy) -> None:
    wippy.http_routes.post(MAIL, json={"queued": True})
    assert (await wippy.http.post("/api/signups", json={"email": "ada@example.com"})).status == 202
    again = await wippy.http.post("/api/signups", json={"email": "ada@example.com"})
    assert again.status == 409 and again.json() == {"error": "already signing up ada@example.com"}


@pytest.mark.parametrize("body", [{"name": "no email"}, {"email": "not-an-address"}, [1, 2]])
async def test_a_bad_body_is_a_400_and_starts_nothing(wippy: Wippy, body: object) -> None:
    response = await wippy.http.post("/api/signups", json=body)
    assert response.status == 400
    assert wippy.world.runs == ()


async def test_a_body_that_is_not_json_is_a_400(wippy: Wippy) -> None:
    response = await wippy.http.post("/api/signups", data="email=ada@example.com")
    assert response.status == 400


async def test_the_mail_service_down_leaves_the_signup_unwelcomed(wippy: Wippy) -> None:
    mail = wippy.http_routes.post(MAIL, status=503, body="try later")
    await wippy.http.post("/api/signups", json={"email": "bo@example.com"})
    assert await wippy.get("signup-bo@example.com").result() == {"status": "unwelcomed"}
    mail.assert_called(times=3)  # the activity's retry policy: three attempts


async def test_the_signup_can_be_read_back_over_http(wippy: Wippy) -> None:
    def accept(request: HttpRequest) -> dict[str, bool]:
        assert request.headers["Content-Type"] == ["application/json"]
        return {"queued": True}

    wippy.http_routes.post(MAIL, accept)
    await wippy.http.post("/api/signups", json={"email": "cy@example.com", "name": "Cy"})
    await wippy.get("signup-cy@example.com").result()
    found = await wippy.http.get("/api/signups/cy@example.com")
    assert found.status == 200
    assert found.json() == {"email": "cy@example.com", "name": "Cy", "status": "welcomed"}
    missing = await wippy.http.get("/api/signups/nobody@example.com")
    assert missing.status == 404


async def test_an_unfaked_mail_service_fails_the_test_loudly(wippy: Wippy) -> None:
    with pytest.raises(Exception, match=f"called POST {MAIL}, which nothing in the test serves"):
        await wippy.http.post("/api/signups", json={"email": "di@example.com"})
        await wippy.get("signup-di@example.com").result()
