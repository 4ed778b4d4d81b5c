-- One row per student and assessment: the submission and its score, with the due date
-- it was measured against. Banked results were carried over from an earlier attempt,
-- so they are neither on time nor late.
with

assessment_results as (
    select * from {{ ref('stg_sis__assessment_results') }}
),

assessments as (
    select * from {{ ref('stg_sis__assessments') }}
),

joined as (
    select
        assessment_results.assessment_result_key,
        assessment_results.assessment_id,
        assessment_results.student_pseudonym,
        assessments.module_instance_id,
        assessments.assessment_type,
        assessments.weight,
        assessments.due_date,
        assessment_results.submitted_date,
        assessment_results.is_banked,
        assessment_results.score,
        case
            when assessment_results.is_banked or assessment_results.submitted_date is null then null
            else assessment_results.submitted_date <= assessments.due_date
        end as is_submitted_on_time
    from assessment_results
    inner join assessments on assessment_results.assessment_id = assessments.assessment_id
)

select * from joined
