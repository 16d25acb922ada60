from sqlalchemy import text


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_database_and_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "database": "ok", "migrations": "head"}


def test_readyz_is_unavailable_when_migrations_are_pending(client, db):
    # Inside the test's rolled-back transaction, pretend the schema is one revision behind.
    db.execute(text("DELETE FROM alembic_version"))
    db.execute(text("INSERT INTO alembic_version VALUES ('older')"))
    db.flush()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["migrations"] == "pending"
