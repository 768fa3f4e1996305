"""Generic workflow runtime on SpiffWorkflow: definitions, instances, timers, messages (no Flask, no domain)."""
from . import spiff_patches  # noqa: F401 - SpiffWorkflow fixes, before any workflow runs
