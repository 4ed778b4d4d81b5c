{# A date of birth as an age band at the reference date (completed years). #}
{% macro age_band(birth_date, reference_date=var('reference_date')) -%}
    case
        when {{ birth_date }} is null then null
        when date_sub('year', {{ birth_date }}, date '{{ reference_date }}') < 21 then 'under 21'
        when date_sub('year', {{ birth_date }}, date '{{ reference_date }}') < 25 then '21-24'
        when date_sub('year', {{ birth_date }}, date '{{ reference_date }}') < 30 then '25-29'
        when date_sub('year', {{ birth_date }}, date '{{ reference_date }}') < 40 then '30-39'
        else '40 and over'
    end
{%- endmacro %}
