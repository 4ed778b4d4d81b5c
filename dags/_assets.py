"""Assets that connect the DAGs: each names a zone a DAG has just changed."""

from airflow.sdk import Asset

RAW = Asset("steward_raw", uri="steward://identified/raw")
WAREHOUSE = Asset("steward_warehouse", uri="steward://warehouse/marts")
ANALYST = Asset("steward_analyst", uri="steward://analyst/releases")
# The model registry and cards: updated each time score_students checks whether to train.
MODEL = Asset("steward_model", uri="steward://warehouse/scoring/model_registry")
