import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BarrierServer

extension TestApp {
    /// The secret a one-time page shows (a generated password, a new token).
    static func userAdminSecret(in html: String) -> String? {
        guard let range = html.range(of: "<code id=\"one-time-secret\">") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "<" })
    }

    func userAdminID(_ email: String) async throws -> String {
        try #require(try await TestDatabase.scalar(db, "SELECT id::text FROM users WHERE email = '\(email)'"))
    }

    /// The version the user's page carries in its forms.
    func userAdminVersion(_ id: String, admin: String) async throws -> String {
        try #require(Self.hidden("version", in: try await page("/admin/users/\(id)", session: admin).text))
    }

    func userAdminSignIn(_ email: String, _ password: String) async throws -> TestResponse {
        let form = try await request(.get, "/login", as: nil)
        let csrf = try #require(form.cookie("barrier_login_csrf"))
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return try await request(.post, "/login", as: nil, body: "email=\(email)&password=\(encoded)&csrf=\(csrf)",
                                 headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "barrier_login_csrf=\(csrf)"])
    }

    func userAdminAPI(_ uri: String, token: String) async throws -> HTTPResponse.Status {
        try await request(.get, uri, token: token).status
    }

    func userAdminValue(_ sql: String) async throws -> String {
        try await TestDatabase.scalar(db, sql) ?? ""
    }
}

@Suite("Pages: users, API tokens and one's own password")
struct UserPageTests {
    static let admin = "admin@inspectorate.example", officer = "officer@inspectorate.example", auditor = "auditor@inspectorate.example"

    @Test("an admin adds a user (errors beside their fields, the password shown once); the user signs in with it and changes it")
    func addUserAndChangePassword() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn(Self.admin)
            let home = try await app.page("/home", session: admin)
            #expect(home.text.contains("href=\"/admin/users\"") && home.text.contains("href=\"/account\""))
            let form = try await app.page("/admin/users/new", session: admin)
            #expect(form.status == .ok && form.text.contains("action=\"/admin/users\"") && form.text.contains("<label for=\"password\">"))
            let users = try await app.userAdminValue("SELECT count(*)::text FROM users")

            let bad = try await app.post("/admin/users", session: admin, fields: [("email", "not-an-address"), ("name", " "), ("role", "officer"),
                                                                                    ("password", "too short")])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("id=\"email-error\"") && bad.text.contains("id=\"name-error\"") && bad.text.contains("id=\"password-error\""))
            #expect(bad.text.contains("value=\"not-an-address\"") && !bad.text.contains("too short"))
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM users") == users)

            let added = try await app.post("/admin/users", session: admin, fields: [("email", "Nora.Vos@inspectorate.example"), ("name", "Nora Vos"),
                                                                                      ("role", "officer")])
            #expect(added.status == .ok && added.text.contains("will not be shown again"), "\(added.text)")
            let password = try #require(TestApp.userAdminSecret(in: added.text))
            #expect(password.count >= 12)
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM audit_events WHERE action = 'user.create' AND actor_label = '\(Self.admin)'") == "1")
            // The list shows the new user; the password is on no page again.
            let list = try await app.page("/admin/users", session: admin)
            #expect(list.status == .ok && list.text.contains("Nora Vos") && list.text.contains("nora.vos@inspectorate.example") && !list.text.contains(password))
            let id = try await app.userAdminID("nora.vos@inspectorate.example")
            #expect(!(try await app.page("/admin/users/\(id)", session: admin)).text.contains(password))

            let again = try await app.post("/admin/users", session: admin, fields: [("email", "nora.vos@inspectorate.example"), ("name", "Nora V."),
                                                                                      ("role", "auditor")])
            #expect(again.status == .conflict && again.text.contains("id=\"email-error\"") && again.text.contains("value=\"Nora V.\""))
            let chosen = try await app.post("/admin/users", session: admin, fields: [("email", "piet@inspectorate.example"), ("name", "Piet Bakker"),
                                                                                       ("role", "auditor"), ("password", "a chosen passphrase")])
            #expect(chosen.status == .seeOther && chosen.headers[.location]?.hasPrefix("/admin/users/") == true)
            let chosenPage = try await app.page(try #require(chosen.headers[.location]), session: admin)
            #expect(chosenPage.text.contains("The user was added.") && chosenPage.text.contains("<dd>auditor</dd>"))
            #expect(try await app.userAdminSignIn("piet@inspectorate.example", "a chosen passphrase").status == .seeOther)

            // The new user signs in with the shown password and changes it.
            let nora = try await app.signIn("nora.vos@inspectorate.example", password: password)
            let account = try await app.page("/account", session: nora)
            #expect(account.status == .ok && account.text.contains("nora.vos@inspectorate.example") && account.text.contains("Test Inspectorate"))
            #expect(!account.text.contains("href=\"/admin/users\""))
            let wrong = try await app.post("/account/password", session: nora, fields: [("current_password", "not my password"),
                                                                                        ("new_password", "a brand new passphrase"),
                                                                                        ("new_password_again", "a brand new passphrase")])
            #expect(wrong.status == .unprocessableContent && wrong.text.contains("id=\"current_password-error\""))
            let mismatch = try await app.post("/account/password", session: nora, fields: [("current_password", password),
                                                                                           ("new_password", "a brand new passphrase"),
                                                                                           ("new_password_again", "a brand new passphrasE")])
            #expect(mismatch.status == .unprocessableContent && mismatch.text.contains("id=\"new_password_again-error\""))
            let short = try await app.post("/account/password", session: nora, fields: [("current_password", password), ("new_password", "short"),
                                                                                        ("new_password_again", "short")])
            #expect(short.status == .unprocessableContent && short.text.contains("id=\"new_password-error\"") && short.text.contains("at least 12"))
            let same = try await app.post("/account/password", session: nora, fields: [("current_password", password), ("new_password", password),
                                                                                       ("new_password_again", password)])
            #expect(same.status == .unprocessableContent && same.text.contains("must differ"))
            // A second session of hers ends with the change; the one she changed it in stays.
            let other = try await app.signIn("nora.vos@inspectorate.example", password: password)
            let changed = try await app.post("/account/password", session: nora, fields: [("current_password", password),
                                                                                          ("new_password", "a brand new passphrase"),
                                                                                          ("new_password_again", "a brand new passphrase")])
            #expect(changed.status == .ok && changed.text.contains("Your password was changed."))
            #expect(try await app.page("/home", session: nora).status == .ok)
            #expect(try await app.page("/home", session: other).status == .seeOther)
            #expect(try await app.userAdminSignIn("nora.vos@inspectorate.example", password).status == .unauthorized)
            #expect(try await app.userAdminSignIn("nora.vos@inspectorate.example", "a brand new passphrase").status == .seeOther)
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM audit_events WHERE action = 'user.password_change'") == "1")
            // Every role has an account page.
            let auditor = try await app.signIn(Self.auditor)
            #expect(try await app.page("/account", session: auditor).status == .ok)
        }
    }

    @Test("a role change applies at once to the user's session and token; a stale form is refused; an admin cannot demote or disable themself")
    func roles() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn(Self.admin)
            let officer = try await app.signIn(Self.officer)
            let id = try await app.userAdminID(Self.officer)
            #expect(try await app.page("/suppliers/new", session: officer).status == .ok)
            let version = try await app.userAdminVersion(id, admin: admin)
            let changed = try await app.post("/admin/users/\(id)/role", session: admin, fields: [("role", "auditor"), ("version", version)])
            #expect(changed.status == .ok && changed.text.contains("The role was changed") && changed.text.contains("<dd>auditor</dd>"))
            #expect(try await app.page("/suppliers/new", session: officer).status == .forbidden)
            let write = try await app.request(.post, "/api/v1/facilitators", as: .officer, json: "{}")
            #expect(write.status == .forbidden)
            let stale = try await app.post("/admin/users/\(id)/role", session: admin, fields: [("role", "officer"), ("version", version)])
            #expect(stale.status == .preconditionFailed)
            let same = try await app.post("/admin/users/\(id)/role", session: admin,
                                          fields: [("role", "auditor"), ("version", try await app.userAdminVersion(id, admin: admin))])
            #expect(same.status == .conflict && same.text.contains("already auditor"))
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM audit_events WHERE action = 'user.set_role'") == "1")

            let me = try await app.userAdminID(Self.admin)
            let myPage = try await app.page("/admin/users/\(me)", session: admin)
            #expect(myPage.text.contains("This is your own account") && !myPage.text.contains("/admin/users/\(me)/disable\""))
            let myVersion = try await app.userAdminVersion(me, admin: admin)
            let demote = try await app.post("/admin/users/\(me)/role", session: admin, fields: [("role", "officer"), ("version", myVersion)])
            #expect(demote.status == .forbidden && demote.text.contains("cannot remove your own admin role"))
            let disable = try await app.post("/admin/users/\(me)/disable", session: admin, fields: [("version", myVersion)])
            #expect(disable.status == .forbidden && disable.text.contains("cannot disable your own account"))
            let reset = try await app.post("/admin/users/\(me)/password", session: admin, fields: [("new_password", "")])
            #expect(reset.status == .forbidden)
            #expect(try await app.userAdminValue("SELECT role || disabled::text FROM users WHERE email = '\(Self.admin)'") == "adminfalse")
            let unknown = try await app.post("/admin/users/\(id)/promote", session: admin, fields: [])
            #expect(unknown.status == .notFound)
        }
    }

    @Test("disabling ends the user's sessions and revokes their tokens; enabling lets them sign in again, the old token stays revoked")
    func disableAndEnable() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn(Self.admin)
            let officer = try await app.signIn(Self.officer)
            let token = try #require(app.tokens[.officer])
            #expect(try await app.userAdminAPI("/api/v1/me", token: token) == .ok)
            let id = try await app.userAdminID(Self.officer)
            let disabled = try await app.post("/admin/users/\(id)/disable", session: admin, fields: [("version", try await app.userAdminVersion(id, admin: admin))])
            #expect(disabled.status == .ok && disabled.text.contains("The user was disabled") && disabled.text.contains("<strong>disabled</strong>"))
            let after = try await app.page("/home", session: officer)
            #expect(after.status == .seeOther && after.headers[.location]?.hasPrefix("/login") == true)
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM web_sessions WHERE user_id = '\(id)'") == "0")
            #expect(try await app.userAdminAPI("/api/v1/me", token: token) == .unauthorized)
            #expect(try await app.userAdminSignIn(Self.officer, "correct horse battery").status == .unauthorized)
            let list = try await app.page("/admin/users", session: admin)
            #expect(list.text.contains("<strong>disabled</strong>"))
            // No new token for a disabled user.
            let refused = try await app.post("/admin/users/\(id)/tokens", session: admin, fields: [("token_name", "late"), ("expires_on", "")])
            #expect(refused.status == .conflict)
            let audit = try await app.userAdminValue("SELECT after->>'sessions_ended' FROM audit_events WHERE action = 'user.disable'")
            #expect(audit == "1")

            let enabled = try await app.post("/admin/users/\(id)/enable", session: admin, fields: [("version", try await app.userAdminVersion(id, admin: admin))])
            #expect(enabled.status == .ok && enabled.text.contains("The user was enabled."))
            #expect(try await app.userAdminSignIn(Self.officer, "correct horse battery").status == .seeOther)
            #expect(try await app.userAdminAPI("/api/v1/me", token: token) == .unauthorized)
        }
    }

    @Test("officers and auditors get 403 on every admin page and post, and a forged post changes nothing; the nav offers them no Users link")
    func onlyAdmins() async throws {
        try await TestApp.run { app in
            let id = try await app.userAdminID(Self.officer)
            let adminID = try await app.userAdminID(Self.admin)
            let tokenID = try await app.userAdminValue("SELECT t.id::text FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = '\(Self.admin)'")
            let before = try await app.userAdminValue("SELECT count(*)::text || sum(version)::text || string_agg(role || disabled::text, ',' ORDER BY email) FROM users")
            let tokensBefore = try await app.userAdminValue("SELECT count(*)::text || count(revoked_at)::text FROM api_tokens")
            for email in [Self.officer, Self.auditor] {
                let session = try await app.signIn(email)
                #expect(!(try await app.page("/home", session: session)).text.contains("href=\"/admin/users\""))
                for uri in ["/admin/users", "/admin/users/new", "/admin/users/\(id)", "/admin/users/\(adminID)"] {
                    #expect(try await app.page(uri, session: session).status == .forbidden, "\(email) \(uri)")
                }
                let posts: [(String, [(String, String)])] = [
                    ("/admin/users", [("email", "intruder@inspectorate.example"), ("name", "Intruder"), ("role", "admin")]),
                    ("/admin/users/\(adminID)/disable", [("version", "1")]),
                    ("/admin/users/\(adminID)/role", [("role", "auditor"), ("version", "1")]),
                    ("/admin/users/\(id)/role", [("role", "admin"), ("version", "1")]),
                    ("/admin/users/\(adminID)/password", [("new_password", "taken over passphrase")]),
                    ("/admin/users/\(id)/tokens", [("token_name", "mine"), ("expires_on", "")]),
                    ("/admin/users/\(adminID)/revoke", [("token_id", tokenID)]),
                    ("/admin/users/\(adminID)/unlock", []),
                ]
                for (uri, fields) in posts {
                    #expect(try await app.post(uri, session: session, fields: fields).status == .forbidden, "\(email) \(uri)")
                }
            }
            // An admin's post without the session's form token is refused as well.
            let admin = try await app.signIn(Self.admin)
            #expect(try await app.post("/admin/users/\(id)/disable", session: admin, fields: [("version", "1")], csrf: "forged").status == .forbidden)
            #expect(try await app.userAdminValue("SELECT count(*)::text || sum(version)::text || string_agg(role || disabled::text, ',' ORDER BY email) FROM users") == before)
            #expect(try await app.userAdminValue("SELECT count(*)::text || count(revoked_at)::text FROM api_tokens") == tokensBefore)
            #expect(try await app.userAdminSignIn(Self.admin, "taken over passphrase").status == .unauthorized)
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM audit_events WHERE entity_type IN ('user', 'api_token') AND action <> 'user.sign_in' AND actor_label <> 'test:system'") == "0")
            // Signed out, the pages send to the sign-in page.
            let anonymous = try await app.request(.get, "/admin/users", as: nil)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/login?next=%2Fadmin%2Fusers")
            #expect(try await app.page("/home", session: admin).text.contains("href=\"/admin/users\""))
        }
    }

    @Test("another agency's admin neither lists nor reaches the first agency's users or tokens (404)")
    func agencyBoundary() async throws {
        try await TestApp.run { app in
            _ = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let theirs = try await app.signIn("admin@second.example")
            let list = try await app.page("/admin/users", session: theirs)
            #expect(list.status == .ok && list.text.contains("officer@second.example") && !list.text.contains("inspectorate.example"))
            let id = try await app.userAdminID(Self.officer)
            let theirOfficer = try await app.userAdminID("officer@second.example")
            let tokenID = try await app.userAdminValue("SELECT t.id::text FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = '\(Self.officer)'")
            #expect(try await app.page("/admin/users/\(id)", session: theirs).status == .notFound)
            for (step, fields) in [("disable", [("version", "1")]), ("role", [("role", "auditor"), ("version", "1")]), ("unlock", []),
                                   ("password", [("new_password", "")]), ("tokens", [("token_name", "x"), ("expires_on", "")]),
                                   ("revoke", [("token_id", tokenID)])] as [(String, [(String, String)])] {
                #expect(try await app.post("/admin/users/\(id)/\(step)", session: theirs, fields: fields).status == .notFound, "\(step)")
            }
            // Nor through their own user's page: the token is not theirs.
            #expect(try await app.post("/admin/users/\(theirOfficer)/revoke", session: theirs, fields: [("token_id", tokenID)]).status == .notFound)
            #expect(try await app.userAdminValue("SELECT role || disabled::text || version::text FROM users WHERE id = '\(id)'") == "officerfalse1")
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = '\(Self.officer)' AND t.revoked_at IS NULL") == "1")
            #expect(try await app.userAdminAPI("/api/v1/me", token: try #require(app.tokens[.officer])) == .ok)
        }
    }

    @Test("a token is shown once and then works; a second working token of the same name and a past day are refused; a revoked token stops working")
    func tokens() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn(Self.admin)
            let id = try await app.userAdminID(Self.auditor)
            let issued = try await app.post("/admin/users/\(id)/tokens", session: admin, fields: [("token_name", "quarterly report"), ("expires_on", "")])
            #expect(issued.status == .ok && issued.text.contains("will not be shown again"))
            let token = try #require(TestApp.userAdminSecret(in: issued.text))
            #expect(token.hasPrefix("brg_"))
            let me = try await app.request(.get, "/api/v1/me", token: token)
            #expect(me.status == .ok && me.text.contains(Self.auditor))
            let page = try await app.page("/admin/users/\(id)", session: admin)
            #expect(page.text.contains("quarterly report") && !page.text.contains(token))

            let twice = try await app.post("/admin/users/\(id)/tokens", session: admin, fields: [("token_name", "quarterly report"), ("expires_on", "")])
            #expect(twice.status == .unprocessableContent && twice.text.contains("id=\"token_name-error\""))
            let past = try await app.post("/admin/users/\(id)/tokens", session: admin, fields: [("token_name", "old one"), ("expires_on", "2020-01-31")])
            #expect(past.status == .unprocessableContent && past.text.contains("id=\"expires_on-error\"") && past.text.contains("value=\"old one\""))
            let dated = try await app.post("/admin/users/\(id)/tokens", session: admin, fields: [("token_name", "until next year"), ("expires_on", "2099-12-31")])
            let datedToken = try #require(TestApp.userAdminSecret(in: dated.text))
            #expect(try await app.userAdminAPI("/api/v1/me", token: datedToken) == .ok)
            #expect(try await app.userAdminValue("SELECT expires_at::date::text FROM api_tokens WHERE name = 'until next year'") == "2100-01-01")

            let tokenID = try await app.userAdminValue("SELECT id::text FROM api_tokens WHERE name = 'quarterly report'")
            let revoked = try await app.post("/admin/users/\(id)/revoke", session: admin, fields: [("token_id", tokenID)])
            #expect(revoked.status == .ok && revoked.text.contains("The token was revoked"))
            #expect(try await app.userAdminAPI("/api/v1/me", token: token) == .unauthorized)
            #expect(try await app.userAdminAPI("/api/v1/me", token: datedToken) == .ok)
            let again = try await app.post("/admin/users/\(id)/revoke", session: admin, fields: [("token_id", tokenID)])
            #expect(again.status == .conflict)
            // A token of another user of the agency is not revoked through this user's page.
            let adminToken = try await app.userAdminValue("SELECT t.id::text FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = '\(Self.admin)'")
            #expect(try await app.post("/admin/users/\(id)/revoke", session: admin, fields: [("token_id", adminToken)]).status == .notFound)
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM audit_events WHERE action IN ('token.create', 'token.revoke') AND actor_label = '\(Self.admin)'") == "3")
        }
    }

    @Test("a password reset (generated and shown once, or typed) ends the user's sessions; a locked address is shown and unlocked")
    func resetAndUnlock() async throws {
        try await TestApp.run { app in
            let admin = try await app.signIn(Self.admin)
            let officer = try await app.signIn(Self.officer)
            let id = try await app.userAdminID(Self.officer)
            let short = try await app.post("/admin/users/\(id)/password", session: admin, fields: [("new_password", "short")])
            #expect(short.status == .unprocessableContent && short.text.contains("id=\"new_password-error\""))
            let reset = try await app.post("/admin/users/\(id)/password", session: admin, fields: [("new_password", "")])
            #expect(reset.status == .ok && reset.text.contains("will not be shown again"))
            let password = try #require(TestApp.userAdminSecret(in: reset.text))
            #expect(try await app.page("/home", session: officer).status == .seeOther)
            #expect(try await app.userAdminSignIn(Self.officer, "correct horse battery").status == .unauthorized)
            #expect(try await app.userAdminSignIn(Self.officer, password).status == .seeOther)
            let typed = try await app.post("/admin/users/\(id)/password", session: admin, fields: [("new_password", "typed by the admin")])
            #expect(typed.status == .ok && typed.text.contains("The password was reset"))
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM audit_events WHERE action = 'user.password_reset'") == "2")

            for _ in 0..<AccessStore.SignInThrottle.maximumFailures { _ = try await app.userAdminSignIn(Self.officer, "a wrong guess") }
            #expect(try await app.userAdminSignIn(Self.officer, "typed by the admin").status == .tooManyRequests)
            let list = try await app.page("/admin/users", session: admin)
            #expect(list.text.contains("locked until"))
            let page = try await app.page("/admin/users/\(id)", session: admin)
            #expect(page.text.contains("action=\"/admin/users/\(id)/unlock\""))
            let unlocked = try await app.post("/admin/users/\(id)/unlock", session: admin, fields: [])
            #expect(unlocked.status == .ok && unlocked.text.contains("The address was unlocked") && !unlocked.text.contains("/unlock\""))
            #expect(try await app.userAdminSignIn(Self.officer, "typed by the admin").status == .seeOther)
            #expect(try await app.post("/admin/users/\(id)/unlock", session: admin, fields: []).status == .conflict)
            #expect(try await app.userAdminValue("SELECT count(*)::text FROM audit_events WHERE action = 'user.sign_in_unlocked' AND actor_label = '\(Self.admin)'") == "1")
        }
    }
}
