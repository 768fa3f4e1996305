"""Alembic environment: runs on the connection handed over by ``engine.migrate``."""
from alembic import context

from engine.persistence.models import Base

# Other packages (the domain) register their metadata here for autogenerate.
target_metadata = [Base.metadata, *context.config.attributes.get("extra_metadata", [])]
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through engine.migrate.upgrade(url)")
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
