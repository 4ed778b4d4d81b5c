"""Learning analytics stewardship platform."""
