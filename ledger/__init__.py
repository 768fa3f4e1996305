"""The dropout-control domain (DOMAIN.md): roles, org units, children, ledgers, attendance."""
