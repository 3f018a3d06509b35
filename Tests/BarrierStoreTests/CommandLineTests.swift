import BarrierCore
import BarrierTestSupport
import Foundation
import Testing
@testable import BarrierStore

/// The `barrier` executable as a user runs it: bad input is one line on stderr,
/// a non-zero exit, and nothing written.
@Suite("Command line")
struct CommandLineTests {
    static var binary: String {
        get throws {
            let sql = try ProjectFiles.directory("sql", containing: "0001_lookups.sql")
            return URL(fileURLWithPath: sql).deletingLastPathComponent().appendingPathComponent(".build/debug/barrier").path
        }
    }

    /// Runs `barrier` as a deployment would: DATABASE_URL names the server's role (bound by
    /// row-level security), DATABASE_OWNER_URL the owner; `token` acts as that user.
    func barrier(_ arguments: [String], database: Database, token: String? = nil) throws -> (status: Int32, output: String) {
        let app = database.url.with(user: AppRole.embeddedLogin)
        let environment = ["DATABASE_URL=\(app.text)", "DATABASE_OWNER_URL=\(database.url.text)"] + (token.map { ["BARRIER_TOKEN=\($0)"] } ?? [])
        return try Subprocess.run(["/usr/bin/env", "-u", "BARRIER_TOKEN"] + environment + [try Self.binary] + arguments, allowFailure: true)
    }

    @Test func anAdministratorLiftsASignInLock() async throws {
        try await TestDatabase.withFresh { db in
            let nothing = try barrier(["user", "unlock", "--email", "clerk@inspectorate.example"], database: db)
            #expect(nothing.status != 0 && nothing.output.split(separator: "\n").count == 1 && nothing.output.contains("clerk@inspectorate.example"))
            for _ in 0..<AccessStore.SignInThrottle.maximumFailures {
                _ = try await AccessStore(db).signIn(email: "Clerk@Inspectorate.example", password: "guess")
            }
            #expect(try await TestDatabase.scalar(db, "SELECT (locked_until > now())::text FROM sign_in_throttle") == "true")
            let lifted = try barrier(["user", "unlock", "--email", "clerk@inspectorate.example"], database: db)
            #expect(lifted.status == 0 && lifted.output.contains("unlocked"))
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM sign_in_throttle") == "0")
            #expect(try await TestDatabase.scalar(db, "SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events") == "user.sign_in_locked,user.sign_in_unlocked")
        }
    }

    @Test func badInputIsOneLineAndChangesNothing() async throws {
        try await TestDatabase.withFresh { db in
            let bad = try barrier(["facilitator", "add", "--legal-name", "Kurier Eins GmbH", "--sector", "bicycles",
                                   "--stage", "shipping", "--country", "DE", "--email", "nope"], database: db)
            #expect(bad.status != 0)
            #expect(bad.output.split(separator: "\n").count == 1)
            #expect(bad.output.contains("sector") && bad.output.contains("email"))
            let notCSV = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).csv").path
            try "legal_name,sector,stages,country\nKurier Zwei GmbH,courier,shipping,ZZ\n".write(toFile: notCSV, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: notCSV) }
            let badImport = try barrier(["import", "facilitators", notCSV], database: db)
            #expect(badImport.status != 0)
            #expect(badImport.output.contains("line 2") && badImport.output.contains("country"))
            let count = try await TestDatabase.scalar(db, "SELECT count(*)::text FROM facilitators")
            #expect(count == "0")
            let good = try barrier(["facilitator", "add", "--legal-name", "Kurier Drei GmbH", "--sector", "courier",
                                    "--stage", "shipping", "--country", "DE"], database: db)
            #expect(good.status == 0)
            #expect(UUID(uuidString: good.output.trimmingCharacters(in: .whitespacesAndNewlines)) != nil)
            let help = try barrier(["import", "--help"], database: db)
            #expect(help.status == 0 && help.output.contains("USAGE"))
        }
    }

    @Test func auditVerifyExitsNonZeroNamingTheTamperedEvent() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await FacilitatorStore(db).create(Fixtures.patch("Verify Kurier GmbH"), allowDuplicates: false, actor: Fixtures.system)
            let intact = try barrier(["audit", "verify"], database: db)
            #expect(intact.status == 0 && intact.output.contains("1 events verified"))
            try await TestDatabase.sql(db, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
            try await TestDatabase.sql(db, "UPDATE audit_events SET actor_label = 'someone else'")
            let seq = try await TestDatabase.scalar(db, "SELECT seq::text FROM audit_events")!
            let broken = try barrier(["audit", "verify"], database: db)
            #expect(broken.status != 0)
            #expect(broken.output.contains("event \(seq)"))
        }
    }

    @Test func lettersFromTheCommandLine() async throws {
        try await TestDatabase.withFresh { db in
            let agency = try await Fixtures.letterheadAgency(db)
            _ = try await Fixtures.user(db, agency: agency, email: "k.weber@bnetza.example")
            let token = try await AccessStore(db).createToken(email: "k.weber@bnetza.example", name: "cli", expiresAt: nil, actor: Fixtures.system)
            let supplier = try await FacilitatorStore(db).create(Fixtures.patch("Schnellkurier Nord GmbH", sector: "courier"),
                                                                allowDuplicates: false, actor: Fixtures.system)
            // The operator reads but does not write an agency's casework.
            let asOperator = try barrier(["letter", "create", "--facilitator", supplier.id.uuidString], database: db)
            #expect(asOperator.status != 0 && asOperator.output.split(separator: "\n").count == 1 && asOperator.output.contains("BARRIER_TOKEN"))
            let bad = try barrier(["letter", "create", "--facilitator", supplier.id.uuidString, "--kind", "warning", "--deadline", "1999-01-01"],
                                  database: db, token: token)
            #expect(bad.status != 0 && bad.output.split(separator: "\n").count == 1)
            #expect(bad.output.contains("kind") && bad.output.contains("deadline"))
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM letters") == "0")
            let created = try barrier(["letter", "create", "--facilitator", supplier.id.uuidString], database: db, token: token)
            #expect(created.status == 0)
            let id = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
            let approved = try barrier(["letter", "approve", id], database: db, token: token)
            #expect(approved.status == 0 && approved.output.contains("OUT-"))
            #expect(try await TestDatabase.scalar(db, "SELECT u.email FROM letters l JOIN users u ON u.id = l.approved_by") == "k.weber@bnetza.example")
            let early = try barrier(["letter", "delivered", id, "--on", "2026-01-01"], database: db, token: token)
            #expect(early.status != 0 && early.output.contains("allowed next: sent"))
            let revoked = try barrier(["letter", "show", id], database: db, token: "brg_revoked")
            #expect(revoked.status != 0 && revoked.output.contains("BARRIER_TOKEN is unknown"))
            let text = try barrier(["letter", "show", id, "--text"], database: db)
            #expect(text.output.contains("Schnellkurier Nord GmbH") && !text.output.contains("DRAFT"))
        }
    }

    @Test func licensingFromTheCommandLine() async throws {
        try await TestDatabase.withFresh { db in
            let agency = try await Fixtures.letterheadAgency(db)
            var tokens: [String: String] = [:]
            for (email, role) in [("k.weber@bnetza.example", "officer"), ("dr.schulz@bnetza.example", "admin")] {
                _ = try await AccessStore(db).createUser(agency: agency.uuidString, email: email, fullName: email, role: role,
                                                         password: "correct horse battery", actor: Fixtures.system)
                tokens[email] = try await AccessStore(db).createToken(email: email, name: "cli", expiresAt: nil, actor: Fixtures.system)
            }
            let (weber, schulz) = (tokens["k.weber@bnetza.example"]!, tokens["dr.schulz@bnetza.example"]!)
            let supplier = try await FacilitatorStore(db).create(Fixtures.patch("Blitzversand Süd GmbH", sector: "courier"),
                                                                allowDuplicates: false, actor: Fixtures.system)
            let badFine = try barrier(["licensing", "propose", "--facilitator", supplier.id.uuidString, "--type", "fine",
                                       "--legal-basis", "§ 12 PostG", "--rationale", "Kept shipping."], database: db, token: weber)
            #expect(badFine.status != 0 && badFine.output.split(separator: "\n").count == 1 && badFine.output.contains("amount_minor"))
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM licensing_actions") == "0")
            let proposed = try barrier(["licensing", "propose", "--facilitator", supplier.id.uuidString, "--type", "warning",
                                        "--legal-basis", "§ 12 PostG", "--rationale", "Parcels without tracking."],
                                       database: db, token: weber)
            #expect(proposed.status == 0)
            let id = proposed.output.trimmingCharacters(in: .whitespacesAndNewlines)
            let own = try barrier(["licensing", "decide", id], database: db, token: weber)
            #expect(own.status != 0 && own.output.split(separator: "\n").count == 1 && own.output.contains("Four-eyes"))
            // Without a token the command line is the operator, who is nobody's second pair of eyes.
            let asOperator = try barrier(["licensing", "decide", id], database: db)
            #expect(asOperator.status != 0 && asOperator.output.split(separator: "\n").count == 1 && asOperator.output.contains("BARRIER_TOKEN"))
            let impersonation = try barrier(["licensing", "decide", id, "--as", "dr.schulz@bnetza.example"], database: db)
            #expect(impersonation.status != 0, "--as no longer exists")
            #expect(try await TestDatabase.scalar(db, "SELECT status FROM licensing_actions") == "proposed")
            let check = try barrier(["licensing", "due-process", id], database: db)
            #expect(check.status == 0 && check.output.contains("ready") && check.output.contains("ladder suggests: warning"))
            let decided = try barrier(["licensing", "decide", id], database: db, token: schulz)
            #expect(decided.status == 0 && decided.output.contains("decided warning Blitzversand Süd GmbH"))
            let ladder = try barrier(["licensing", "ladder", supplier.id.uuidString], database: db, token: schulz)
            #expect(ladder.output.contains("suggested: conditions"))
            let register = try barrier(["licensing", "register", "--csv"], database: db)
            #expect(register.status == 0 && register.output.hasPrefix("id,decided_on,authority,supplier_name"))
            #expect(register.output.split(separator: "\n").count == 1, "a warning is not in the public register")
        }
    }

    @Test func reportsFromTheCommandLine() async throws {
        try await TestDatabase.withFresh { db in
            _ = try await Fixtures.letterheadAgency(db)
            let supplier = try await FacilitatorStore(db).create(Fixtures.patch("Eilbote Mitte GmbH", sector: "courier", stages: [.shipping, .selling]),
                                                                allowDuplicates: false, actor: Fixtures.system)
            _ = try await CooperationStore(db).change(supplier.id, to: .engaged, reason: "Meeting", expectedVersion: 0, actor: Fixtures.system)
            let byStage = try barrier(["report", "cooperation", "--by", "stage", "--table", "levels"], database: db)
            #expect(byStage.status == 0)
            let lines = byStage.output.split(separator: "\n")
            #expect(lines.first?.contains("[levels]") == true && lines[1].hasPrefix("STAGE"))
            #expect(lines.contains { $0.hasPrefix("selling") && $0.contains("engaged") && $0.contains("1.0000") })
            let csv = try barrier(["report", "matrix", "--table", "cells", "--csv"], database: db)
            #expect(csv.output.hasPrefix("stage,sector,suppliers") && csv.output.contains("selling,courier,1,1.0000,0.0000,0,0,false"))
            let bad = try barrier(["report", "funnel", "--from", "last-week", "--sector", "bicycles"], database: db)
            #expect(bad.status != 0 && bad.output.split(separator: "\n").count == 1 && bad.output.contains("from") && bad.output.contains("sector"))
            let unknown = try barrier(["report", "horoscope"], database: db)
            #expect(unknown.status != 0 && unknown.output.contains("cooperation, funnel, licensing, matrix, signals"))
        }
    }
}

@Suite("The first run")
struct FirstRunTests {
    @Test("output that is not a terminal carries no secret: the login goes to a private file, with a token that expires in 30 days")
    func secretsStayOutOfTheLog() async throws {
        try await TestDatabase.withFresh { db in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("barrier-first-run-\(UUID().uuidString).txt").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let app = db.url.with(user: AppRole.embeddedLogin)
            let port = 20_000 + Int.random(in: 0..<20_000)
            // The server runs until the time limit stops it; by then the first run is done.
            let run = try Subprocess.run(["/usr/bin/env", "-u", "BARRIER_TOKEN", "DATABASE_URL=\(app.text)", "DATABASE_OWNER_URL=\(db.url.text)",
                                          "PORT=\(port)", "BARRIER_FIRST_RUN_FILE=\(file)", try CommandLineTests.binary, "serve", "--bootstrap"],
                                         allowFailure: true, timeoutSeconds: 15)
            let written = try String(contentsOfFile: file, encoding: .utf8)
            let password = try #require(written.split(separator: "\n").first { $0.hasPrefix("password:") }?.split(separator: " ").last.map(String.init))
            let token = try #require(written.split(separator: "\n").first { $0.hasPrefix("API token:") }?.split(separator: " ").dropFirst(2).first.map(String.init))
            #expect(token.hasPrefix("brg_") && password.count >= 12)
            #expect(!run.output.contains(password) && !run.output.contains(token), "a secret reached the output: \(run.output)")
            #expect(run.output.contains(file))
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect(written.contains("/account") && written.contains("/admin/users"))
            #expect(try await TestDatabase.scalar(db, """
                SELECT (expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days')::text FROM api_tokens WHERE name = 'first-run'
                """) == "true")
            guard case .signedIn = try await AccessStore(db).signIn(email: "admin@barrier.example", password: password) else {
                Issue.record("the written password does not sign in")
                return
            }
        }
    }
}

@Suite("Sign-in guesses in parallel")
struct ParallelSignInTests {
    @Test("twenty guesses at once get at most the limit's password checks, lock the address once, and a right password then waits for the lock")
    func parallelGuesses() async throws {
        try await TestDatabase.withFresh { db in
            let access = AccessStore(db)
            let agency = try await access.createAgency(name: "Guessing Authority", country: "NL", actor: Fixtures.system)
            _ = try await access.createUser(agency: agency.uuidString, email: "Target@Guess.example", fullName: "Target", role: "officer",
                                            password: "the right password", actor: Fixtures.system)
            let results = try await withThrowingTaskGroup(of: AccessStore.SignInResult.self) { group in
                for i in 0..<20 { group.addTask { try await access.signIn(email: i % 2 == 0 ? "target@guess.example" : "TARGET@guess.EXAMPLE", password: "guess \(i)") } }
                var all: [AccessStore.SignInResult] = []
                for try await r in group { all.append(r) }
                return all
            }
            let limit = AccessStore.SignInThrottle.maximumFailures
            #expect(PasswordHashing.verifications(for: "target@guess.example") <= limit)
            #expect(results.filter { if case .locked = $0 { return true } else { return false } }.count == 20 - (limit - 1))
            #expect(try await TestDatabase.scalar(db, "SELECT count(*)::text FROM audit_events WHERE action = 'user.sign_in_locked'") == "1")
            guard case .locked = try await access.signIn(email: "target@guess.example", password: "the right password") else {
                Issue.record("the right password got past the lock")
                return
            }
        }
    }
}

@Suite("Password hashes")
struct PasswordCostTests {
    @Test("new hashes use the configured cost (12 unless BARRIER_BCRYPT_COST says otherwise), and a hash of another cost still verifies")
    func cost() async {
        let configured = ProcessInfo.processInfo.environment["BARRIER_BCRYPT_COST"].flatMap(Int.init) ?? 12
        #expect(PasswordHashing.cost == configured)
        let hash = await PasswordHashing.hash("correct horse battery")
        #expect(hash.hasPrefix(String(format: "$2b$%02d$", configured)) || hash.hasPrefix(String(format: "$2a$%02d$", configured)), "\(hash.prefix(7))")
        let older = await PasswordHashing.hash("correct horse battery", cost: 10)
        #expect(await PasswordHashing.verify("correct horse battery", hash: older))
        #expect(!(await PasswordHashing.verify("wrong horse battery", hash: older)))
    }
}
