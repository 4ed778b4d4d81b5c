# The platform's Airflow image: the official Apache Airflow image (which brings the Celery,
# Postgres, Redis and FAB providers the production compose file needs) plus our locked
# dependencies from uv.lock and the project itself. Built by `docker compose build`.
#
# AIRFLOW_VERSION and PYTHON_VERSION must match uv.lock and pyproject.toml (a test checks).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}
ARG AIRFLOW_VERSION

USER root
# STEWARD_HOME: the stores live on a named volume mounted here. Docker copies this
# folder's owner into a new empty volume, so the airflow user can write it.
RUN mkdir -p /opt/steward /opt/steward-app && chown airflow:0 /opt/steward /opt/steward-app
COPY --from=uv /uv /usr/local/bin/uv
USER airflow
WORKDIR /opt/steward-app

# Dependencies first (a layer that changes only with the lock). Pinning apache-airflow
# keeps pip from moving the image's own Airflow while it resolves the lock's pins.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN uv export --frozen --no-dev --no-emit-project --no-hashes --format requirements-txt \
        --output-file /tmp/requirements.txt \
    && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

ENV STEWARD_HOME=/opt/steward \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/steward-app/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/steward-app/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    SCARF_ANALYTICS=false \
    DO_NOT_TRACK=true \
    PYTHONPATH=/opt/steward-app/include:/opt/steward-app/dags

# The project, installed editable so that the package finds its policies, dbt project and
# DAGs beside it (paths are resolved from the source tree, as in a checkout).
COPY --chown=airflow:0 include include
COPY --chown=airflow:0 dags dags
COPY --chown=airflow:0 dbt_project dbt_project
COPY --chown=airflow:0 plugins plugins
RUN pip install --no-cache-dir --no-deps -e . && steward dbt-parse
