"""Uploads that pass every check yet hold something a person must look at before they are
stored: held back, with nothing changed, until the uploader confirms them."""

from __future__ import annotations

from dataclasses import replace

from dashboard.ingest.validation import IngestReport, UploadRejected, file_problem


class HeldBack(UploadRejected):
    """Valid, but stored only once confirmed (the Data page's tick box, or --confirm).

    A subclass sets what it found before calling __init__, which words the refusal from
    reason(), checks() and confirm_when()."""

    stores = "upload"  # what the confirmation stores: "snapshot" or "upload"

    def __init__(self, report: IngestReport):
        # A copy carries the problem: the prepared upload itself stays valid, to be stored
        # when the uploader confirms.
        refused = replace(report, held_back=True, problems_total=1, problem_list=[
            file_problem(self.reason(report.file_name), f"{self.checks()} If "
                         f"{self.confirm_when()}, confirm it: tick the confirmation on the Data "
                         "page, or add --confirm to the ingest command")])
        super().__init__(refused)

    def reason(self, file_name: str) -> str:
        """Why the upload is held back."""
        raise NotImplementedError

    def checks(self) -> str:
        """What to check before confirming."""
        raise NotImplementedError

    def confirm_when(self) -> str:
        """When the upload is right as it is (a clause: "the tracker really ...")."""
        raise NotImplementedError


def text_list(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
