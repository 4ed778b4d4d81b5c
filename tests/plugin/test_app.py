"""The Stewardship view inside the real Airflow API server app: the plugin mounts it and
adds the navigation entry, and only a user logged in to Airflow sees it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from steward import audit
from steward.retention.sweep import summarise
from steward.stewardship.render import PAGES

PATHS = ["/stewardship/" + path for path, _ in PAGES] + ["/stewardship/transparency/report.html"]


@pytest.fixture(scope="module")
def client(airflow_db):
    """A client of the Airflow API server app (as `airflow api-server` builds it)."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as client:
        yield client


@pytest.fixture(scope="module")
def admin_token(client, airflow_db) -> str:
    """A JWT from Airflow's own login endpoint, with the generated admin password."""
    passwords = json.loads(
        (airflow_db / "simple_auth_manager_passwords.json.generated").read_text()
    )
    response = client.post(
        "/auth/token", json={"username": "admin", "password": passwords["admin"]}
    )
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


@pytest.mark.parametrize("path", PATHS)
def test_when_not_logged_in_then_every_page_sends_the_browser_to_airflow_login(
    client, steward_home, path
):
    client.cookies.clear()
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == "/auth/login"
    assert urlsplit(parse_qs(location.query)["next"][0]).path == path


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer not-a-token"}, {"Cookie": "_token=forged.jwt.value"}],
    ids=["bearer", "cookie"],
)
def test_when_the_token_is_forged_then_the_view_is_refused(client, steward_home, headers):
    client.cookies.clear()
    response = client.get("/stewardship/retention", headers=headers, follow_redirects=False)

    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/auth/login"


def test_when_logged_in_with_the_ui_cookie_then_the_pages_show_the_stores(
    client, admin_token, steward_home
):
    started = datetime.now(UTC)
    audit.record(
        "sweep-77",
        "retention.apply",
        outcome="success",
        started_at=started,
        store="warehouse",
        table_name="marts.fct_vle_weekly",
        rows_affected=4321,
        detail={"action": "delete", "category": "engagement"},
    )
    summarise(
        "sweep-77",
        "success",
        started.date(),
        dry_run=False,
        started_at=started,
        planned=[{"store": "warehouse", "rows": 4321}],
        applied=[{"store": "warehouse", "rows": 4321}],
    )
    client.cookies.set("_token", admin_token)
    try:
        retention = client.get("/stewardship/retention")
        overview = client.get("/stewardship/")
        missing_report = client.get("/stewardship/transparency/report.html")
    finally:
        client.cookies.clear()

    assert retention.status_code == 200
    assert "sweep-77" in retention.text and '<td class="n">4321</td>' in retention.text
    assert retention.headers["cache-control"] == "no-store"
    assert overview.status_code == 200 and "sweep-77: success, 4321 rows changed" in overview.text
    assert missing_report.status_code == 404


def test_when_logged_in_with_a_bearer_token_then_the_report_file_is_served(
    client, admin_token, steward_home
):
    report = steward_home / "reports" / "transparency.html"
    report.parent.mkdir(parents=True)
    report.write_text("<h1>How we use your data</h1>")

    response = client.get(
        "/stewardship/transparency/report.html",
        headers={"Authorization": f"Bearer {admin_token}"},
    )

    assert response.status_code == 200
    assert response.text == "<h1>How we use your data</h1>"


def test_the_plugin_adds_the_view_to_the_navigation(client, admin_token):
    response = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {admin_token}"})

    assert response.status_code == 200
    plugin = next(p for p in response.json()["plugins"] if p["name"] == "stewardship")
    assert [(a["name"], a["url_prefix"]) for a in plugin["fastapi_apps"]] == [
        ("Stewardship", "/stewardship")
    ]
    [view] = plugin["external_views"]
    assert (view["destination"], view["url_route"], view["href"]) == (
        "nav",
        "stewardship",
        "stewardship/",
    )


def test_when_a_task_is_writing_the_store_then_the_page_asks_to_reload(
    client, admin_token, steward_home, hold_write_lock
):
    audit.record("ingest-1", "ingest", outcome="success", started_at=datetime.now(UTC))
    hold_write_lock("audit")

    response = client.get(
        "/stewardship/retention", headers={"Authorization": f"Bearer {admin_token}"}
    )

    assert response.status_code == 503
    assert "reload in a moment" in response.text
    assert "audit.duckdb" in response.text
