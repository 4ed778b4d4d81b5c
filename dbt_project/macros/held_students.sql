{#
  The rows of students the identity map still holds. An erased student's statutory record
  (marks, grades, outcomes) stays in the identified zone under their id; without a
  pseudonym it never reaches the warehouse again.
#}
{% macro held_students(relation, column='student_id') -%}
    select * from {{ relation }}
    where exists (
        select 1 from {{ source('identity', 'identity_map') }} as im
        where im.subject_type = 'student' and im.source_id = trim({{ relation }}.{{ column }})
    )
{%- endmacro %}
