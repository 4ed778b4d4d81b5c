"""Airflow plugin: the Stewardship view.

Serves `steward.stewardship.app` from the Airflow API server under `/stewardship/` and
puts a "Stewardship" entry in the UI's navigation bar that shows it inside the UI.
The pages need Airflow's login; see `steward.stewardship.app`.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from steward.stewardship.app import RESOURCE, URL_PREFIX, app


class StewardshipPlugin(AirflowPlugin):
    name = "stewardship"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": RESOURCE}]
    external_views = [
        {
            "name": RESOURCE,
            # Relative (no leading slash) so that it follows `[api] base_url`.
            "href": URL_PREFIX.lstrip("/") + "/",
            "url_route": "stewardship",
            "destination": "nav",
            "nav_top_level": True,
        }
    ]
