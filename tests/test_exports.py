"""CSV exports never carry a live spreadsheet formula taken from uploaded text."""

from __future__ import annotations

import io

import pandas as pd

from dashboard.exports import safe_csv


def test_formula_like_text_is_neutralised_and_numbers_are_not():
    frame = pd.DataFrame({
        "officer": ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2", "@SUM(A1)", "\tx",
                    "Officer 1"],
        "referrals": [1, -2, 3, 4, 5, 6],
    })
    back = pd.read_csv(io.BytesIO(safe_csv(frame)), encoding="utf-8-sig")
    assert list(back["officer"]) == ["'=HYPERLINK(\"http://x\",\"click\")", "'+1+1", "'-2",
                                     "'@SUM(A1)", "'\tx", "Officer 1"]
    assert list(back["referrals"]) == [1, -2, 3, 4, 5, 6]
