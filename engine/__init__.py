"""Generic workflow runtime on SpiffWorkflow: definitions, instances, timers, messages (no Flask, no domain)."""
