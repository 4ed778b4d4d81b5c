"""Our Presidio recognisers for what UK institutions hold, one class per module."""

from steward.pii.recognizers.date_of_birth import DateOfBirthRecognizer
from steward.pii.recognizers.email_address import EmailAddressRecognizer
from steward.pii.recognizers.husid import HusidRecognizer
from steward.pii.recognizers.national_insurance import NationalInsuranceRecognizer
from steward.pii.recognizers.nhs_number import NhsNumberRecognizer
from steward.pii.recognizers.person import PersonRecognizer
from steward.pii.recognizers.postcode import PostcodeRecognizer
from steward.pii.recognizers.student_id import StudentIdRecognizer
from steward.pii.recognizers.uk_phone import UkPhoneRecognizer
from steward.pii.recognizers.uln import UlnRecognizer

__all__ = [
    "DateOfBirthRecognizer",
    "EmailAddressRecognizer",
    "HusidRecognizer",
    "NhsNumberRecognizer",
    "PersonRecognizer",
    "StudentIdRecognizer",
    "NationalInsuranceRecognizer",
    "UkPhoneRecognizer",
    "PostcodeRecognizer",
    "UlnRecognizer",
]
