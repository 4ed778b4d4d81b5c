"""Students' requests about their own data: access, erasure, rectification and consent
changes, reaching every zone and every file under STEWARD_HOME, answered within the
deadline in `include/policies/requests.yaml` and logged in the audit store without the
student's identity (`handle` is the entry point; the CLI and the DAG call it)."""
