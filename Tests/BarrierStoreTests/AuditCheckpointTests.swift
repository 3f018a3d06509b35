import BarrierCore
import BarrierTestSupport
import Foundation
import PostgresNIO
import Testing
@testable import BarrierStore

/// Signed checkpoints catch what the chain alone cannot: its newest events
/// deleted, or the whole chain recomputed after a rewrite.
@Suite("Audit checkpoints")
struct AuditCheckpointTests {
    static func key() throws -> AuditSigningKey {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-key-\(UUID()).key").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let made = try AuditSigningKey.load(path: path, create: true)
        // The file is private and reads back as the same key.
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try AuditSigningKey.load(path: path, create: false).publicKey == made.publicKey)
        return made
    }

    static func events(_ db: Database, _ names: [String]) async throws {
        for name in names {
            _ = try await FacilitatorStore(db).create(Fixtures.patch(name), allowDuplicates: true, actor: Fixtures.system)
        }
    }

    @Test func aSignedHeadHoldsAndLaterEventsAreCountedAsNotYetSigned() async throws {
        try await TestDatabase.withFresh { db in
            let key = try Self.key()
            #expect(try await AuditCheckpoints(db).sign(with: key) == nil, "an empty chain has no head to sign")
            try await Self.events(db, ["Alpha Kurier GmbH", "Bravo Versand GmbH"])
            let first = try #require(try await AuditCheckpoints(db).sign(with: key))
            // Signing again without a new event, or within the interval, adds nothing.
            #expect(try await AuditCheckpoints(db).sign(with: key) == first)
            try await Self.events(db, ["Charlie Fracht GmbH"])
            #expect(try await AuditCheckpoints(db).sign(with: key, minimumSeconds: 3600) == first)
            let result = try await AuditLog(db).verify(trusting: [key.publicKey])
            #expect(result.holds)
            #expect(result.checked == 3)
            #expect(result.checkpointsHeld == 1)
            #expect(result.signaturesChecked)
            #expect(result.newestCheckpointSeq == first.seq)
            #expect(result.unsignedEvents == 1)
            // The published line reads back and checks out on its own.
            let published = try AuditCheckpoint.parsePublished(first.published(with: key.publicKey))
            #expect(published.publicKey == key.publicKey.base64)
            #expect(published.signatureProblem(trusting: [AuditPublicKey(base64: published.publicKey!)!]) == nil)
            // The database refuses to change or remove a checkpoint.
            for statement in ["UPDATE audit_checkpoints SET seq = 1", "DELETE FROM audit_checkpoints", "TRUNCATE audit_checkpoints"] {
                await #expect(throws: PSQLError.self, "\(statement)") { try await TestDatabase.sql(db, statement) }
            }
        }
    }

    @Test func deletingTheNewestEventsIsCaught() async throws {
        try await TestDatabase.withFresh { db in
            let key = try Self.key()
            try await Self.events(db, ["Alpha Kurier GmbH", "Bravo Versand GmbH", "Charlie Fracht GmbH"])
            let head = try #require(try await AuditCheckpoints(db).sign(with: key))
            // act: a superuser removes the two newest events: what is left still links
            try await TestDatabase.sql(db, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
            try await TestDatabase.sql(db, "DELETE FROM audit_events WHERE seq > (SELECT min(seq) FROM audit_events)")
            let result = try await AuditLog(db).verify(trusting: [key.publicKey])
            #expect(result.firstBroken == nil)
            #expect(result.checked == 1)
            #expect(!result.holds)
            #expect(result.checkpointProblem?.contains("the newest events were deleted") == true)
            #expect(result.checkpointProblem?.contains("signed event \(head.seq)") == true)
        }
    }

    @Test func aRewrittenAndRecomputedChainIsCaughtEvenWhenTheCheckpointsAreGone() async throws {
        try await TestDatabase.withFresh { db in
            let key = try Self.key()
            try await Self.events(db, ["Alpha Kurier GmbH", "Bravo Versand GmbH", "Charlie Fracht GmbH"])
            let head = try #require(try await AuditCheckpoints(db).sign(with: key))
            let published = try AuditCheckpoint.parsePublished(head.published(with: key.publicKey))
            // act: a superuser rewrites the first event and recomputes every hash after it, so the chain links again
            try await TestDatabase.sql(db, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
            try await TestDatabase.sql(db, """
                DO $$
                DECLARE e record; v_prev bytea := decode(repeat('00', 32), 'hex');
                BEGIN
                    UPDATE audit_events SET after = jsonb_set(after, '{legal_name}', '"Innocent GmbH"') WHERE seq = (SELECT min(seq) FROM audit_events);
                    FOR e IN SELECT * FROM audit_events ORDER BY seq LOOP
                        UPDATE audit_events SET prev_hash = v_prev,
                            hash = sha256(convert_to(audit_canonical(e.seq, e.occurred_at, e.actor_id, e.actor_label, e.agency_id, e.action,
                                e.entity_type, e.entity_id, e.before, e.after, e.request_id, v_prev), 'UTF8'))
                        WHERE seq = e.seq RETURNING hash INTO v_prev;
                    END LOOP;
                END $$
                """)
            let rewritten = try await AuditLog(db).verify(trusting: [key.publicKey])
            #expect(rewritten.firstBroken == nil)
            #expect(rewritten.checkpointProblem?.contains("the chain was rewritten") == true)
            // act: the intruder also removes the checkpoints; the head published elsewhere still catches it
            try await TestDatabase.sql(db, "ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_update")
            try await TestDatabase.sql(db, "DELETE FROM audit_checkpoints")
            #expect(try await AuditLog(db).verify(trusting: [key.publicKey]).holds, "without the checkpoints the rewrite is invisible")
            let against = try await AuditLog(db).verify(trusting: [key.publicKey], published: [published])
            #expect(against.checkpointProblem?.contains("the published head") == true)
            #expect(against.checkpointProblem?.contains("rewritten") == true)
        }
    }

    @Test func aForgedOrForeignCheckpointIsRefused() async throws {
        try await TestDatabase.withFresh { db in
            let key = try Self.key()
            let other = try Self.key()
            try await Self.events(db, ["Alpha Kurier GmbH"])
            // Signed by a key that the check does not trust.
            _ = try #require(try await AuditCheckpoints(db).sign(with: other))
            let foreign = try await AuditLog(db).verify(trusting: [key.publicKey])
            #expect(foreign.checkpointProblem?.contains("which this check does not trust") == true)
            // Without keys the signature is not checked, but the chain and the checkpoint's hash are.
            let unchecked = try await AuditLog(db).verify()
            #expect(unchecked.holds)
            #expect(!unchecked.signaturesChecked)
            // A row claiming the trusted key with a made-up signature.
            try await Self.events(db, ["Bravo Versand GmbH"])
            try await TestDatabase.sql(db, """
                INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature)
                SELECT seq, hash, now(), '\(key.publicKey.id)', decode(repeat('ab', 64), 'hex') FROM audit_events ORDER BY seq DESC LIMIT 1
                """)
            let forged = try await AuditLog(db).verify(trusting: [key.publicKey, other.publicKey])
            #expect(forged.checkpointProblem?.contains("signature does not hold") == true)
        }
    }
}
