{#
  The instant consent is judged at: the start of this dbt run, or var('consent_as_of')
  when a rebuild must give an earlier instant's answer. Not the reference date: consent
  decides who is contacted now, so a grant or withdrawal recorded after the data snapshot
  (a student's request today) counts from the next build, and an event dated later than
  the build does not count yet.
#}
{% macro consent_known_at() -%}
    {%- set as_of = var('consent_as_of', none) or run_started_at.isoformat() -%}
    timestamptz '{{ as_of }}'
{%- endmacro %}
