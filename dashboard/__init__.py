"""Offender to Rehab (O2R) programme dashboard."""
