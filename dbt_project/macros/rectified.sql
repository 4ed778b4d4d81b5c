{#
  A source table's records with the corrections students asked for laid over them
  (raw.rectifications, written by `steward request rectify`). The latest correction of a
  column replaces the value it was recorded against; once the source sends a different
  value, the source wins, since the correction was about the old one. Columns and their
  types come from the source's definition in _sources.yml, so none is listed here (a unit
  test, which has no source definitions, names them in var('rectified_columns')).
#}
{% macro rectified(records, source_name, table_name, key) -%}
    {%- set corrections = source('raw', 'rectifications') -%}
    {%- set declared = {} -%}
    {%- if execute -%}
        {%- for node in (graph.get('sources') or {}).values() -%}
            {%- if node.source_name == source_name and node.name == table_name -%}
                {%- for column in node.columns.values() if column.name != key -%}
                    {%- do declared.update({column.name: column.data_type}) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns = var('rectified_columns', declared) -%}
    select
        {% if columns -%}
        records.* replace (
            {%- for name, data_type in columns.items() %}
            case
                when corrected.{{ name }}__old_value is not distinct from records.{{ name }}::varchar
                    and corrected.{{ name }}__new_value is not null
                    then try_cast(corrected.{{ name }}__new_value as {{ data_type }})
                else records.{{ name }}
            end as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
        )
        {%- else -%}
        records.*
        {%- endif %}
    from {{ records }} as records
    left join (
        select
            trim(student_id) as subject_id,
            {%- for name in columns %}
            arg_max(old_value, recorded_at) filter (where column_name = '{{ name }}')
                as {{ name }}__old_value,
            arg_max(new_value, recorded_at) filter (where column_name = '{{ name }}')
                as {{ name }}__new_value,
            {%- endfor %}
        from {{ corrections }}
        where table_name = '{{ table_name }}'
        group by trim(student_id)
    ) as corrected on trim(records.{{ key }}) = corrected.subject_id
{%- endmacro %}
