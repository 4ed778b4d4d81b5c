"""The at-risk model (issue 6): train, validate, check stability and fairness, gate
promotion, write the model card, score students and create consented interventions.

Policy is `include/policies/model.yaml` (`steward.model.policy`). Artifacts live under
`$STEWARD_HOME/models/<version>/`; the registry, predictions and interventions are tables
in the warehouse's `scoring` schema (`steward.model.registry`), written by Python.
"""
