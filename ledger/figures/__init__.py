"""The town's figures (issue 15 "Figures"; DOMAIN.md "Figures the town reports"; DOMAIN-REFERENCE
§5.3), per month, for the town, a school or a village, computed when asked from the register and
the persuasion cases (nothing stored: a figure seen today is today's).

* ``register``: what is read (children, each child's status history from the case events,
  persuasion cases with their tasks and first absences);
* ``rates``: 辍学率, 劝返率, 巩固率, 残疾儿童安置率, median days to return, re-dropout in 90 days;
* ``workload``: open cases by tier and by age, overdue tasks by unit;
* ``metrics``: who sees which unit, the month and unit checked, the whole answer.
"""
from .metrics import may_see_figures, metrics, unit_choices

__all__ = ["may_see_figures", "metrics", "unit_choices"]
