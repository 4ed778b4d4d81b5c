{#
  The latest record per key of a raw landing table. Raw tables are append-only snapshots:
  a later `provided_at` (when the source has it), then a later load, then a later line wins.
#}
{% macro latest_record(relation, key, provided_at=true) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {% for k in ([key] if key is string else key) %}trim({{ k }}){% if not loop.last %}, {% endif %}{% endfor %}
        order by {% if provided_at %}provided_at desc nulls last, {% endif %}_loaded_at desc, _line desc
    ) = 1
{%- endmacro %}
