"""`barrier backup FILE` and `barrier restore FILE` into an empty database: the
same counts in every table, the chain and its signed checkpoints verify, and
the restored registry serves."""

from __future__ import annotations

import secrets

from harness import Server, psql, supplier, with_database


def counts(url):
    tables = psql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").split()
    return {t: int(psql(url, f'SELECT count(*) FROM "{t}"')) for t in tables}


def test_backup_and_restore_into_an_empty_database(cluster, registry, tmp_path):
    key = {"BARRIER_AUDIT_KEY_FILE": str(tmp_path / "audit-signing.key")}
    server = Server(registry, tmp_path).start()
    token = registry.tokens["officer"]
    ids = []
    for n in range(25):
        status, body, _ = server.api("POST", "/api/v1/facilitators?create_anyway=true", token,
                                     supplier(f"Backup Test {n:02d} Kurier", registration_number=f"HRB {500000 + n}"))
        assert status == 201, body
        ids.append(body["id"])
    status, letter, _ = server.api("POST", "/api/v1/letters", token, {"facilitator_id": ids[0], "kind": "inform_call_to_action"})
    assert status == 201, letter
    server.stop()

    backup = tmp_path / "registry.dump"
    made = registry.cli("backup", str(backup), env=key)
    assert backup.is_file() and (tmp_path / "registry.dump.head.json").is_file(), made.stderr
    before = counts(registry.owner_url)

    target_db = "restored_" + secrets.token_hex(4)
    psql(cluster.url, f'CREATE DATABASE "{target_db}"')
    target = with_database(cluster.url, target_db)
    restored = registry.cli("restore", str(backup), env={**key, "DATABASE_URL": target})
    assert restored.returncode == 0, restored.stderr
    after = counts(target)
    assert after == before, {t: (before.get(t), after.get(t)) for t in set(before) | set(after) if before.get(t) != after.get(t)}
    assert before["facilitators"] == 25 and before["audit_checkpoints"] >= 1

    verify = registry.cli("audit", "verify", "--head", str(tmp_path / "registry.dump.head.json"), check=False,
                          env={**key, "DATABASE_URL": target})
    assert verify.returncode == 0, verify.stderr
    assert "signed checkpoint(s) hold" in verify.stdout + verify.stderr

    # A restore never lands on a database that has tables: one line, non-zero, nothing changed.
    again = registry.cli("restore", str(backup), check=False, env={**key, "DATABASE_URL": target})
    assert again.returncode != 0 and "not empty" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert counts(target) == after

    # The restored registry serves.
    restored_registry = type(registry)(owner_url=target, app_url=with_database(cluster.url, target_db, user="barrier_server"),
                                       agency=registry.agency, tokens=registry.tokens)
    copy = Server(restored_registry, tmp_path, name="restored").start()
    status, body, _ = copy.api("GET", f"/api/v1/facilitators/{ids[3]}", token)
    assert status == 200 and body["legal_name"] == "Backup Test 03 Kurier"
    assert copy.stop() == 0
    print(f"\nbackup {backup.stat().st_size} bytes, {sum(before.values())} rows in {len(before)} tables restored with equal counts; "
          f"{(restored.stdout + restored.stderr).strip()}; {(verify.stdout + verify.stderr).strip()}")
