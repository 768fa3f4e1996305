"""Where the domain's migrations live (one Alembic history with the engine's)."""
from pathlib import Path

VERSIONS = Path(__file__).parent / "migrations" / "versions"
