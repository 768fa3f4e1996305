"""Running instances: commands, the executor that runs them in one transaction, projections."""
