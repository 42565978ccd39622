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


def test_uploaded_text_shown_in_markdown_is_escaped():
    from dashboard.text import plain

    hostile = "[click me](javascript:alert(1)) <script>x</script> **bold** :red[alarm]"
    escaped = plain(hostile)
    assert "](" not in escaped.replace("\\](", "").replace("\\]\\(", "")
    assert "<script>" not in escaped
    assert "**" not in escaped
    assert escaped.replace("\\", "") == hostile
