"""Alembic's environment for the ledger: runs on the connection `SqlLedger` hands it.

No `alembic.ini` is needed on the merchant's side: `payrouter._ledger._migrate.upgrade`
configures Alembic in code and passes the open connection in `config.attributes`.
"""

from __future__ import annotations

from alembic import context

from payrouter._ledger._schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    version_table="payrouter_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
