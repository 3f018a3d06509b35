import BarrierCore
import BarrierStore
import BarrierTestSupport
import Foundation
import Testing

@Suite("Password re-hashing at sign-in")
struct PasswordRehashTests {
    @Test("the cost of a hash is read from it")
    func costOfAHash() {
        #expect(PasswordHashing.cost(of: "$2b$04$abcdefghijklmnopqrstuu") == 4)
        #expect(PasswordHashing.cost(of: "$2a$12$abcdefghijklmnopqrstuu") == 12)
        for bad in ["", "plain", "$2b$4$x", "$1$04$x", "2b$04$x", "$2b$x4$y"] { #expect(PasswordHashing.cost(of: bad) == nil, "\(bad)") }
    }

    @Test("a sign-in with a hash of a lower cost stores one of the configured cost, once, audited; a higher cost is kept; a wrong password changes nothing")
    func upgradeOnSignIn() async throws {
        try await TestDatabase.withFresh { db in
            let old = AccessStore(db, passwordCost: 4), current = AccessStore(db, passwordCost: 6)
            let agency = try await old.createAgency(name: "Rehash Authority", country: "NL", actor: Fixtures.system)
            let (id, _) = try await old.createUser(agency: agency.uuidString, email: "old@rehash.example", fullName: "Old Hash", role: "officer",
                                                   password: "the right password", actor: Fixtures.system)
            func storedHash() async throws -> String { try #require(await TestDatabase.scalar(db, "SELECT password_hash FROM users WHERE id = '\(id)'")) }
            func rehashes() async throws -> String? {
                try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events WHERE action = 'user.password_rehash'")
            }
            let first = try await storedHash()
            #expect(PasswordHashing.cost(of: first) == 4)
            let version = try await TestDatabase.scalar(db, "SELECT version::text FROM users WHERE id = '\(id)'")

            // A wrong password: nothing is re-hashed.
            #expect(try await current.signIn(email: "old@rehash.example", password: "a wrong password") == .refused)
            #expect(try await storedHash() == first)

            guard case .signedIn(let who) = try await current.signIn(email: "old@rehash.example", password: "the right password") else {
                Issue.record("the right password was refused")
                return
            }
            #expect(who.userID == id)
            let upgraded = try await storedHash()
            #expect(PasswordHashing.cost(of: upgraded) == 6 && upgraded != first)
            #expect(await PasswordHashing.verify("the right password", hash: upgraded))
            #expect(try await rehashes() == "1")
            let event = try await TestDatabase.scalar(db, """
                SELECT actor_label || ' ' || entity_id || ' ' || (before->>'bcrypt_cost') || '>' || (after->>'bcrypt_cost')
                FROM audit_events WHERE action = 'user.password_rehash'
                """)
            #expect(event == "old@rehash.example \(id.uuidString.lowercased()) 4>6")
            // The user record's version (its ETag) is unchanged: the password is the same.
            #expect(try await TestDatabase.scalar(db, "SELECT version::text FROM users WHERE id = '\(id)'") == version)

            // Signing in again at the same cost, or with a lower configured cost, keeps the hash.
            guard case .signedIn = try await current.signIn(email: "old@rehash.example", password: "the right password"),
                  case .signedIn = try await old.signIn(email: "old@rehash.example", password: "the right password") else {
                Issue.record("the right password was refused after re-hashing")
                return
            }
            #expect(try await storedHash() == upgraded)
            #expect(try await rehashes() == "1")
        }
    }

    @Test("a client's attempts are counted before the password, given back on success, and refused past the limit")
    func clientLimitInTheStore() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await Fixtures.agencyWithUsers(db)
            let access = AccessStore(db)
            let client = AccessStore.SignInClient(key: "192.0.2.44", limit: 2)
            #expect(try await access.signIn(email: "officer@inspectorate.example", password: "correct horse battery", from: client) != .refused)
            #expect(try await access.signIn(email: "someone@inspectorate.example", password: "guess", from: client) == .refused)
            #expect(try await access.signIn(email: "someone@inspectorate.example", password: "guess", from: client) == .refused)
            guard case .tooManyFromClient(let until) = try await access.signIn(email: "officer@inspectorate.example", password: "correct horse battery", from: client) else {
                Issue.record("the third failure was not refused")
                return
            }
            #expect(until > Date().addingTimeInterval(14 * 60) && until <= Date().addingTimeInterval(15 * 60 + 5))
            // Another client, and a sign-in without one (the command line), are not affected.
            guard case .signedIn = try await access.signIn(email: "officer@inspectorate.example", password: "correct horse battery",
                                                          from: AccessStore.SignInClient(key: "192.0.2.45", limit: 2)),
                  case .signedIn = try await access.signIn(email: "officer@inspectorate.example", password: "correct horse battery") else {
                Issue.record("another client was refused")
                return
            }
            // Expired rows are cleared as new windows start.
            try await TestDatabase.sql(db, "UPDATE sign_in_clients SET window_started_at = now() - interval '1 hour'")
            _ = try await access.signIn(email: "someone@inspectorate.example", password: "guess", from: AccessStore.SignInClient(key: "192.0.2.46"))
            #expect(try await TestDatabase.scalar(db, "SELECT string_agg(client, ' ') FROM sign_in_clients") == "192.0.2.46")
        }
    }
}
