"""The Stewardship view: what the platform did, for stewards, inside the Airflow UI.

`pages` reads the audit and warehouse stores read-only and returns plain data, one
function per page; `render` turns that data into HTML; `app` is the FastAPI app that the
Airflow plugin (`plugins/stewardship.py`) mounts behind Airflow's own login. Every page
shows run ids, table names, counts, measures and verdicts only, never a student.
"""
