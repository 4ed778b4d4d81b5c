"""The one error the risk package raises for bad input."""


class RiskInputError(ValueError):
    """Input the risk gate cannot measure: a missing file, table, column or hierarchy value.

    The message names the file (or relation), the field and what to do.
    """
