"""The case list (issue 13 "Case lists"): every case a person may trace, filtered, counted,
sorted, a page at a time, and exported; for the inspectors, the task force, the county
bureau, the principals and village secretaries (their unit's cases) and everyone else (the
cases of their own tasks). Who sees which case: ``ledger.access.case_scope``, the rule the
case's own pages follow too.

* ``filters``: ``CaseFilter``, parsed and checked once for the REST list and the page;
* ``query``: the scoped SQL, the counts, the items (masked), the access-log row;
* ``export``: the Excel workbook of the filtered list.
"""
from .export import EXPORT_MAX, export_xlsx
from .filters import SORTS, STATUSES, CaseFilter
from .query import case_list, log_list, process_choices, unit_choices

__all__ = ["EXPORT_MAX", "SORTS", "STATUSES", "CaseFilter", "case_list", "export_xlsx",
           "log_list", "process_choices", "unit_choices"]
