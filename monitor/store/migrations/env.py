"""Alembic environment: runs on the connection handed over by monitor.store.db.migrate."""

from alembic import context
from sqlmodel import SQLModel

import monitor.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from monitor.store.search import include_in_autogenerate
from monitor.store.types import JSONDocument

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = config.attributes["engine"]
        with engine.begin() as connection:
            _run(connection)
    else:
        _run(connection)


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Render our JSON-or-JSONB column type by name; the default rendering does not import."""
    if type_ == "type" and isinstance(obj, JSONDocument):
        autogen_context.imports.add("import monitor.store.types")
        return "monitor.store.types.JSONType"
    return False


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds for ALTERs
        compare_type=True,
        render_item=_render_item,
        include_object=include_in_autogenerate,  # the FTS5 table is not a model
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
