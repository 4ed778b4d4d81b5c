"""Re-identification risk gate: measures, hierarchies, generalisation, linkage, cell suppression.

Library functions a DAG task, the CLI and tests call; thresholds come from policy.
"""

from steward.risk.aggregates import SuppressedTable, suppress_cells, suppress_count_table
from steward.risk.errors import RiskInputError
from steward.risk.generalise import LOSS_MEASURE, GeneralisationResult, generalise
from steward.risk.hierarchy import (
    POLICY_HIERARCHIES,
    Hierarchy,
    date_hierarchy,
    flat_hierarchy,
    hierarchy_from_spec,
    interval_hierarchy,
    load_hierarchy,
    postcode_hierarchy,
    prefix_hierarchy,
)
from steward.risk.linkage import CombinationRisk, LinkageReport, Release, check_linkage
from steward.risk.measures import (
    RiskMeasures,
    class_table_sql,
    measure,
    measure_source,
    open_source,
)
from steward.risk.thresholds import Thresholds

__all__ = [
    "LOSS_MEASURE",
    "POLICY_HIERARCHIES",
    "CombinationRisk",
    "GeneralisationResult",
    "Hierarchy",
    "LinkageReport",
    "Release",
    "RiskInputError",
    "RiskMeasures",
    "SuppressedTable",
    "Thresholds",
    "check_linkage",
    "class_table_sql",
    "date_hierarchy",
    "flat_hierarchy",
    "generalise",
    "hierarchy_from_spec",
    "interval_hierarchy",
    "load_hierarchy",
    "measure",
    "measure_source",
    "open_source",
    "postcode_hierarchy",
    "prefix_hierarchy",
    "suppress_cells",
    "suppress_count_table",
]
