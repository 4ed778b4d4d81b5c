"""The Stewardship view as a FastAPI app, mounted by the Airflow API server.

Behind Airflow's own login: every request must carry the JWT that the Airflow UI keeps in
its `_token` cookie (or an `Authorization: Bearer` token from `/auth/token`), checked by
Airflow's own `get_user`, and the auth manager must allow the user the custom view
`Stewardship`. A browser without a valid token is sent to Airflow's login page, which
brings it back here afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from steward import stores
from steward.stewardship import pages, render

RESOURCE = "Stewardship"
URL_PREFIX = "/stewardship"


class LoginRequired(Exception):
    """No valid Airflow token came with the request."""


async def require_steward(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    try:
        user = await get_user(request, None, bearer)
    except HTTPException as exc:
        raise LoginRequired(exc.detail) from exc
    if not get_auth_manager().is_authorized_custom_view(
        method="GET", resource_name=RESOURCE, user=user
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"user may not see the {RESOURCE} view")


app = FastAPI(
    title="Stewardship",
    description="Retention runs, release gate, student requests, models, PII findings.",
    dependencies=[Depends(require_steward)],
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)


@app.exception_handler(LoginRequired)
async def _to_login(request: Request, exc: LoginRequired) -> Response:
    login = get_auth_manager().get_url_login(next_url=str(request.url))
    return RedirectResponse(login, status_code=status.HTTP_303_SEE_OTHER)


# Page path -> (its data, its HTML); the paths and titles are `render.PAGES`.
VIEWS: dict[str, tuple[Callable[[], Any], Callable[[Any], str]]] = {
    "": (pages.overview, render.overview),
    "retention": (pages.retention_runs, render.retention),
    "releases": (pages.release_gate, render.releases),
    "requests": (pages.student_requests, render.requests),
    "models": (pages.model_registry, render.models),
    "pii": (pages.pii_findings, render.pii),
    "transparency": (pages.transparency_report, render.transparency),
}


def _view(path: str) -> Callable[[], HTMLResponse]:
    data, html = VIEWS[path]

    def view() -> HTMLResponse:
        headers = {"Cache-Control": "no-store"}
        try:
            return HTMLResponse(html(data()), headers=headers)
        except stores.StoreLockedError as exc:
            return HTMLResponse(render.busy(path, str(exc)), status_code=503, headers=headers)

    return view


for _path, _title in render.PAGES:
    app.add_api_route(
        f"/{_path}", _view(_path), methods=["GET"], response_class=HTMLResponse, name=_title
    )


@app.get("/transparency/report.html")
def transparency_file() -> FileResponse:
    path = pages.transparency_path()
    if not path.exists():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "the transparency report is not published yet"
        )
    return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-store"})
