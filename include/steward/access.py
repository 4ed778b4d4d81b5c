"""Who may read what (`include/policies/access.yaml`), and the analyst's connection.

An analyst is handed `analyst.duckdb` and nothing else. `analyst_connection` opens it
read-only with DuckDB's external access switched off and the configuration locked, so
that from inside the session no other file can be reached: no `ATTACH` of the
identified zone or the warehouse, no `read_csv` of landing files, no `COPY`, no
extensions. (Outside DuckDB, the operating system's file permissions keep the other
stores from the analyst's account; see the README's section for analysts.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from steward import policy, stores

ROLES = ("data_engineer", "data_steward", "analyst", "student_support", "student")
READ_KINDS = ("schemas", "tables", "releases")
# Settings given when the analyst store is opened. `lock_configuration` is set last, once
# the session's time zone is fixed: after it, no SET can loosen anything.
ANALYST_SETTINGS = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def access_policy(folder: Path = policy.POLICY_DIR) -> dict[str, Any]:
    return policy.read("access", folder)


def problems(folder: Path = policy.POLICY_DIR) -> list[str]:
    """Every way `access.yaml` names a role, store or release that does not exist."""
    where = folder / "access.yaml"
    document = access_policy(folder)
    releases = set(policy.read("releases", folder)["releases"])
    roles = document.get("roles") or {}
    found = [f"{where}: role {name!r} is missing" for name in ROLES if name not in roles]
    for name, role in roles.items():
        for store, grant in (role.get("reads") or {}).items():
            at = f"{where}: roles.{name}.reads.{store}"
            if store not in stores.STORES:
                found.append(f"{at}: unknown store; expected one of {', '.join(stores.STORES)}")
                continue
            if not grant or set(grant) - set(READ_KINDS):
                found.append(f"{at}: give one or more of {', '.join(READ_KINDS)}")
                continue
            named = grant.get("releases")
            if named is not None and store != "analyst":
                found.append(f"{at}: releases are in the analyst store only")
            if isinstance(named, list):
                found += [
                    f"{at}: release {r!r} is not in releases.yaml"
                    for r in named
                    if r not in releases
                ]
            elif named not in (None, "all"):
                found.append(f"{at}.releases: a list of release names, or `all`")
    if not (document.get("requests") or {}).get("channel"):
        found.append(f"{where}: requests.channel is missing (how a student makes a request)")
    return found


def readable_releases(role: dict[str, Any], releases: list[str]) -> list[str]:
    """The releases a role may read, in policy order."""
    named = ((role.get("reads") or {}).get("analyst") or {}).get("releases")
    return list(releases) if named == "all" else [r for r in releases if r in (named or [])]


def analyst_connection(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """The analyst store, read-only and sealed from every other file; close it when done
    (`with analyst_connection() as con:`)."""
    path = path or stores.store_path("analyst")
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no analyst store yet; the release gate (release_analyst_marts) writes it"
        )
    con = duckdb.connect(str(path), read_only=True, config=ANALYST_SETTINGS)
    con.execute("set TimeZone = 'UTC'")
    con.execute("set lock_configuration = true")
    return con
