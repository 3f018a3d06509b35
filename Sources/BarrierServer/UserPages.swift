import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Users and API tokens in the browser, for the agency's administrators:
/// the list (role, state, a locked sign-in, tokens), adding a user (a
/// generated password shown once), and one user's page with each change:
/// role, disable and enable, password reset, unlock, tokens issued (shown
/// once) and revoked. Every user changes their own password on /account.
/// The server refuses /admin/* to anyone but an admin, whatever the page
/// shows; each change calls an `AccessStore` use case that audits it.
extension PageController {
    func registerUserPages(on router: Router<BarrierRequestContext>) {
        router.get("admin/users") { request, _ in
            try await withSession(request, roles: RoleSets.admins) { session in try await userList(session) }
        }
        router.get("admin/users/new") { request, _ in
            try await withSession(request, roles: RoleSets.admins) { session in userForm(session, values: [:]) }
        }
        router.post("admin/users") { request, _ in
            try await withForm(request, roles: RoleSets.admins) { s, f in try await addUser(f, session: s) }
        }
        router.get("admin/users/{id}") { request, context in
            let added = request.uri.queryParameters["added"] != nil
            return try await withSession(request, roles: RoleSets.admins) { session in
                try await userPage(try context.uuidParameter(), session: session, flash: added ? pages.text("users.addedFlash") : nil)
            }
        }
        router.post("admin/users/{id}/{step}") { request, context in
            try await withForm(request, roles: RoleSets.admins) { s, f in
                try await userStep(try context.uuidParameter(), step: context.parameters.get("step") ?? "", f, session: s)
            }
        }
        router.get("account") { request, _ in try await withSession(request) { session in try await accountPage(session) } }
        router.post("account/password") { request, _ in
            try await withForm(request, roles: RoleSets.everyone) { s, f in try await changeOwnPassword(request, f, session: s) }
        }
    }

    // MARK: The list and adding a user

    static let userTime: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_GB_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return f
    }()

    static func time(_ date: Date?) -> String { date.map(userTime.string(from:)) ?? "" }

    func userList(_ session: PageSession) async throws -> Response {
        let users = try await access.agencyUsers().map { user -> [String: Any] in
            let working = user.tokens.filter { $0.isActive() }
            return ["id": user.id.uuidString.lowercased(), "email": user.email, "full_name": user.fullName, "role": user.role.rawValue,
                    "disabled": user.disabled, "locked": user.locked, "locked_until": Self.time(user.lockedUntil),
                    "tokens": working.map(\.name).joined(separator: ", "), "isSelf": user.id == session.identity.userID]
        }
        return pages.page("users", title: pages.text("users.title"), ["users": users], session: session)
    }

    func userForm(_ session: PageSession, values: [String: Any], errors: [FieldError] = [], status: HTTPResponse.Status = .ok) -> Response {
        var data = values
        let chosen = values["role"] as? String ?? Role.officer.rawValue
        data["roles"] = Role.allCases.map { ["code": $0.rawValue, "selected": $0.rawValue == chosen] }
        data["errors"] = Self.messages(errors)
        data["invalid"] = !errors.isEmpty
        return pages.page("user_form", title: pages.text("users.newTitle"), data, session: session, status: status)
    }

    func addUser(_ form: PageForm, session: PageSession) async throws -> Response {
        let values: [String: Any] = ["email": form["email"] ?? "", "name": form["name"] ?? "", "role": form["role"] ?? ""]
        let password = form["password"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            let (id, generated) = try await access.createAgencyUser(email: form["email"] ?? "", fullName: form["name"] ?? "", role: form["role"] ?? "",
                                                                   password: password, actor: session.identity.actor(requestID: nil))
            guard let generated else {
                return Response(status: .seeOther, headers: [.location: "/admin/users/\(id.uuidString.lowercased())?added=1"])
            }
            let email = (form["email"] ?? "").trimmingWhitespace.lowercased()
            return secretPage(session, title: pages.text("users.addedTitle"), lead: pages.text("users.addedLead", ["email": email]),
                              secret: generated, label: pages.text("users.password"), userID: id)
        } catch StoreError.invalid(let problems) {
            return userForm(session, values: values, errors: problems, status: .unprocessableContent)
        } catch StoreError.conflict(let message) {
            return userForm(session, values: values, errors: [FieldError(field: "email", message: message)], status: .conflict)
        }
    }

    /// A secret (a password, a token) shown this once, with a way on to the user's page.
    func secretPage(_ session: PageSession, title: String, lead: String, secret: String, label: String, userID: UUID,
                    note: String? = nil) -> Response {
        var data: [String: Any] = ["heading": title, "lead": lead, "secret": secret, "label": label, "user_id": userID.uuidString.lowercased()]
        if let note { data["note"] = note }
        return pages.page("secret", title: title, data, session: session)
    }

    // MARK: One user

    func userPage(_ id: UUID, session: PageSession, flash: String? = nil, errors: [FieldError] = [], values: [String: Any] = [:],
                  status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await access.agencyUser(id)
        var data = values
        data["id"] = user.id.uuidString.lowercased()
        data["user_id"] = user.id.uuidString.lowercased()
        data["email"] = user.email
        data["full_name"] = user.fullName
        data["role"] = user.role.rawValue
        data["disabled"] = user.disabled
        data["created"] = Self.time(user.createdAt)
        data["version"] = user.version
        data["locked"] = user.locked
        data["locked_until"] = Self.time(user.lockedUntil)
        data["isSelf"] = user.id == session.identity.userID
        data["roles"] = Role.allCases.map { ["code": $0.rawValue, "selected": $0 == user.role] }
        let now = Date()
        data["tokens"] = user.tokens.map { token -> [String: Any] in
            let state = token.revokedAt != nil ? pages.text("users.revoked") : token.isActive(at: now) ? pages.text("users.working") : pages.text("users.expired")
            return ["id": token.id.uuidString.lowercased(), "name": token.name, "created": Self.time(token.createdAt),
                    "expires": token.expiresAt.map { Self.time($0) } ?? pages.text("users.never"), "state": state, "active": token.isActive(at: now),
                    "revokedAt": Self.time(token.revokedAt)]
        }
        data["errors"] = Self.messages(errors)
        data["problems"] = errors.map { ["field": $0.field, "message": $0.message] }
        data["invalid"] = !errors.isEmpty
        return pages.page("user", title: user.fullName, data, session: session, status: status, flash: flash)
    }

    /// One change from the user's page; a refusal for the state (409), the
    /// version (412) or oneself (403) is a page that says why.
    func userStep(_ id: UUID, step: String, _ form: PageForm, session: PageSession) async throws -> Response {
        let actor = session.identity.actor(requestID: nil)
        var typed: [String: Any] = [:]
        var fieldNames: [String: String] = [:]
        do {
            switch step {
            case "role":
                try await access.setRole(id, to: form.text("role") ?? "", expectedVersion: try version(form), actor: actor)
                return try await userPage(id, session: session, flash: pages.text("users.roleChanged"))
            case "disable":
                try await access.disableUser(id, expectedVersion: try version(form), actor: actor)
                return try await userPage(id, session: session, flash: pages.text("users.disabledDone"))
            case "enable":
                try await access.enableUser(id, expectedVersion: try version(form), actor: actor)
                return try await userPage(id, session: session, flash: pages.text("users.enabledDone"))
            case "password":
                fieldNames = ["password": "new_password"]
                let given = form["new_password"].flatMap { $0.isEmpty ? nil : $0 }
                guard let generated = try await access.resetPassword(id, to: given, actor: actor) else {
                    return try await userPage(id, session: session, flash: pages.text("users.resetDone"))
                }
                let user = try await access.agencyUser(id)
                return secretPage(session, title: pages.text("users.resetTitle"), lead: pages.text("users.resetLead", ["email": user.email]),
                                  secret: generated, label: pages.text("users.password"), userID: id)
            case "unlock":
                try await access.unlockUser(id, actor: actor)
                return try await userPage(id, session: session, flash: pages.text("users.unlocked"))
            case "tokens":
                fieldNames = ["name": "token_name"]
                typed = ["token_name": form["token_name"] ?? "", "expires_on": form["expires_on"] ?? ""]
                let (_, token) = try await access.createToken(forUser: id, name: form.text("token_name") ?? "", lastDay: form.text("expires_on"),
                                                              actor: actor)
                let user = try await access.agencyUser(id)
                let name = form.text("token_name") ?? ""
                return secretPage(session, title: pages.text("users.tokenTitle"),
                                  lead: pages.text("users.tokenLead", ["name": name, "email": user.email]), secret: token,
                                  label: pages.text("users.token"), userID: id, note: pages.text("users.tokenUse"))
            case "revoke":
                guard let token = form.text("token_id").flatMap(UUID.init(uuidString:)) else {
                    throw StoreError.notFound(entity: "api token", id: form["token_id"] ?? "")
                }
                try await access.revokeToken(token, ofUser: id, actor: actor)
                return try await userPage(id, session: session, flash: pages.text("users.revokedDone"))
            default:
                throw Problem(.notFound, "Not found", detail: "There is no step '\(step)'.")
            }
        } catch StoreError.invalid(let problems) {
            let renamed = problems.map { FieldError(field: fieldNames[$0.field] ?? $0.field, message: $0.message) }
            return try await userPage(id, session: session, errors: renamed, values: typed, status: .unprocessableContent)
        }
    }

    static func messages(_ errors: [FieldError]) -> [String: String] {
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        return messages
    }

    // MARK: One's own account

    func accountPage(_ session: PageSession, flash: String? = nil, errors: [FieldError] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await access.agencyUser(session.identity.userID)
        let agency = Self.object(try await access.agency(session.identity.agencyID).json)
        let now = Date()
        let data: [String: Any] = [
            "email": user.email, "full_name": user.fullName, "role": user.role.rawValue, "agency": agency["name"] ?? "",
            "tokens": user.tokens.filter { $0.isActive(at: now) }.map { ["name": $0.name, "created": Self.time($0.createdAt),
                                                                         "expires": $0.expiresAt.map { Self.time($0) } ?? pages.text("users.never")] },
            "errors": Self.messages(errors), "invalid": !errors.isEmpty,
        ]
        return pages.page("account", title: pages.text("account.title"), data, session: session, status: status, flash: flash)
    }

    func changeOwnPassword(_ request: Request, _ form: PageForm, session: PageSession) async throws -> Response {
        let current = form["current_password"] ?? "", new = form["new_password"] ?? "", again = form["new_password_again"] ?? ""
        var problems = PasswordRule.changeProblems(current: current, new: new)
        if !problems.contains(where: { $0.field == "new_password" }) && again != new {
            problems.append(FieldError(field: "new_password_again", message: pages.text("account.mismatch")))
        }
        do {
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            try await access.changeOwnPassword(session.identity, current: current, new: new,
                                               keepingSession: request.cookies[Self.sessionCookie]?.value)
        } catch StoreError.invalid(let problems) {
            return try await accountPage(session, errors: problems, status: .unprocessableContent)
        }
        return try await accountPage(session, flash: pages.text("account.changed"))
    }
}
