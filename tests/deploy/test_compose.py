"""The production `docker-compose.yml` cannot run here (no Docker engine), so it is checked
statically: against the Compose specification's JSON schema (check-jsonschema's vendored
copy), for the Airflow 3 CeleryExecutor shape, and for where its secrets come from."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
SECRETS = {
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "STEWARD_PSEUDONYM_KEY",
}
# `${NAME}` and `${NAME:-default}` / `${NAME:?message}`, but not `$${NAME}` (the container's own)
REFERENCE = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
    )


def env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def test_when_the_compose_file_is_checked_against_the_compose_spec_then_it_is_valid():
    result = check(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            lambda c: c["services"]["airflow-worker"].update(helthcheck={"test": ["NONE"]}),
            "helthcheck",
        ),
        (lambda c: c["services"]["airflow-apiserver"].update(ports="8080:8080"), "ports"),
        (
            lambda c: c["services"]["airflow-scheduler"]["depends_on"]["postgres"].update(
                condition="service_ready"
            ),
            "service_ready",
        ),
    ],
    ids=["misspelt-key", "ports-not-a-list", "unknown-condition"],
)
def test_when_a_compose_file_breaks_the_spec_then_the_check_rejects_it(
    compose, tmp_path, change, complaint
):
    broken = copy.deepcopy(compose)
    change(broken)
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False))
    result = check(path)
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr


def test_when_the_services_are_read_then_airflow_3_runs_on_celery_with_postgres_and_redis(compose):
    services = compose["services"]
    assert set(services) == AIRFLOW_SERVICES | {"postgres", "redis"}
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES - {"airflow-init"}}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert re.fullmatch(
            r"redis://:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/0",
            env["AIRFLOW__CELERY__BROKER_URL"],
        ), name
        assert (
            env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
            == "http://airflow-apiserver:8080/execution/"
        )
        if name != "airflow-init":
            assert services[name]["depends_on"]["airflow-init"] == {
                "condition": "service_completed_successfully"
            }
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_when_a_service_runs_long_then_it_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name == "airflow-init":
            assert service["restart"] == "no"
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name}: no health check"
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert compose["services"][name]["depends_on"]["postgres"] == {
            "condition": "service_healthy"
        }


def test_when_workers_are_scaled_then_the_replicas_do_not_clash(compose):
    worker = compose["services"]["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    assert [n for n, s in compose["services"].items() if "container_name" in s] == []


def test_when_airflow_services_start_then_they_share_the_steward_home_volume(compose):
    assert "steward-home" in compose["volumes"]
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert "steward-home:/opt/steward" in service["volumes"], name
        assert service["environment"]["STEWARD_HOME"] == "/opt/steward", name


def test_when_secrets_are_referenced_then_each_comes_from_the_env_file_and_only_the_example_is_committed(
    compose,
):
    text = COMPOSE.read_text()
    referenced = {name: modifier for name, modifier in REFERENCE.findall(text)}
    example = env_example()
    assert set(referenced) <= set(example), f"not in .env.example: {set(referenced) - set(example)}"
    assert SECRETS <= set(referenced)
    for name in SECRETS:
        assert all(m.startswith(":?") for n, m in REFERENCE.findall(text) if n == name), (
            f"{name} must be required (${{{name}:?...}}) so compose refuses to start without it"
        )
        assert example[name] == "", f".env.example must not carry a value for {name}"
    holders = {
        variable: sorted(
            n for n, s in compose["services"].items() if variable in (s.get("environment") or {})
        )
        for variable in (
            "STEWARD_PSEUDONYM_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__API__SECRET_KEY",
        )
    }
    assert holders == {
        "STEWARD_PSEUDONYM_KEY": ["airflow-worker"],  # tasks run there
        "AIRFLOW__API_AUTH__JWT_SECRET": ["airflow-apiserver", "airflow-scheduler"],
        "AIRFLOW__API__SECRET_KEY": ["airflow-apiserver"],
    }
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", ".env"])
    assert ignored.returncode == 0, ".env must be in .gitignore"
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", ".env", ".env.example"], capture_output=True, text=True
    ).stdout.split()
    assert ".env" not in tracked


def test_when_the_image_is_built_then_its_airflow_and_python_match_the_lock():
    dockerfile = (ROOT / "Dockerfile").read_text()
    airflow = re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", dockerfile, re.M).group(1)
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.M).group(1)
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = next(p["version"] for p in lock["package"] if p["name"] == "apache-airflow")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert airflow == locked
    assert f">={python}" in requires
    assert "uv export --frozen --no-dev" in dockerfile


def test_when_docker_compose_is_installed_then_it_accepts_the_file(tmp_path):
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip("docker compose is not installed here; the schema check above stands in")
    env = tmp_path / ".env"
    env.write_text(
        "\n".join(
            f"{k}={v or 'test-value-0123456789abcdef0123456789'}" for k, v in env_example().items()
        )
    )
    result = subprocess.run(
        [docker, "compose", "--env-file", str(env), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
