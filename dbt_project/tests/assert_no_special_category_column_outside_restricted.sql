-- Special-category columns (those the sources' meta marks `special_category`) exist in
-- the warehouse only inside the restricted schema. The column names come from the
-- generated sources file, so a newly declared special-category column is covered too.
{%- set names = [] %}
{%- if execute %}
    {%- for source in graph.sources.values() %}
        {%- for column in source.columns.values() %}
            {%- if column.meta.get('sensitivity') == 'special_category' and column.name not in names %}
                {%- do names.append(column.name) %}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

with

warehouse_columns as (
    select
        table_schema,
        table_name,
        column_name
    from information_schema.columns
    where table_catalog = '{{ target.database }}'
),

violations as (
    select *
    from warehouse_columns
    where
        table_schema != 'restricted'
        and lower(column_name) in (
            {%- for name in names %}
                '{{ name }}'{{ "," if not loop.last }}
            {%- endfor %}
        )
)

select * from violations
