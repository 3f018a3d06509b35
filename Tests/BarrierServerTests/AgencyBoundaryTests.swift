import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The first agency's casework, built through the API, with the ids a second agency must never reach.
struct FirstAgencyCasework {
    var supplier: String
    var letter: String
    var reference: String
    var campaign: String
    var commitment: String
    var contact: String
    var signal: String
    var attachment: String
    /// The signal's share with a third agency (customs).
    var share: String
    var action: String
    var plan: String
    /// Ids and texts that only the first agency's casework contains.
    var secrets: [String]

    /// Builds letters, a campaign, cooperation, a contact, a commitment, a signal with
    /// an attachment, a licensing action and an action plan as `app`'s agency.
    static func build(_ app: TestApp) async throws -> FirstAgencyCasework {
        let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
        let agencyTag = try await app.etag("/api/v1/agency")
        let letterhead = try await app.request(.patch, "/api/v1/agency", as: .admin, json: """
            {"street": "Koningskade 4", "postal_code": "2596 AA", "city": "Den Haag", "email": "barrier@inspectorate.example",
             "signatory_name": "H. J. Bakker", "signatory_title": "Director of Supervision"}
            """, headers: [.ifMatch: agencyTag])
        try #require(letterhead.status == .ok)
        let supplier = try await app.createAddressedSupplier("Grenzenlos Kurier GmbH", sector: "courier", country: "DE")
        let created = try await app.request(.post, "/api/v1/letters", json: "{\"facilitator_id\": \"\(supplier)\", \"kind\": \"inform_call_to_action\"}")
        let letter = try #require(created.object["id"] as? String)
        let approved = try await app.request(.post, "/api/v1/letters/\(letter)/approve", headers: [.ifMatch: try #require(created.headers[.eTag])])
        let reference = try #require(approved.object["reference"] as? String)
        let sent = try await app.request(.post, "/api/v1/letters/\(letter)/send", json: "{\"method\": \"post\", \"on\": \"\(today)\"}",
                                         headers: [.ifMatch: try #require(approved.headers[.eTag])])
        let delivered = try await app.request(.post, "/api/v1/letters/\(letter)/delivered", json: "{\"on\": \"\(today)\"}",
                                              headers: [.ifMatch: try #require(sent.headers[.eTag])])
        let answer = Data("%PDF-1.4 answer of Grenzenlos".utf8)
        let responded = try await app.request(.post, "/api/v1/letters/\(letter)/responded", json: """
            {"on": "\(today)", "channel": "letter", "summary": "Named a security officer.",
             "document": {"name": "answer.pdf", "content_type": "application/pdf", "content_base64": "\(answer.base64EncodedString())"}}
            """, headers: [.ifMatch: try #require(delivered.headers[.eTag])])
        try #require(responded.status == .ok)
        // A second letter whose answer is overdue: another agency's deadline sweep must leave it alone.
        let late = try await app.createAddressedSupplier("Grenzenlos Zwei GmbH", sector: "courier", country: "DE")
        let overdue = try await app.request(.post, "/api/v1/letters", json: "{\"facilitator_id\": \"\(late)\", \"kind\": \"inform_call_to_action\"}")
        let overdueID = try #require(overdue.object["id"] as? String)
        let overdueApproved = try await app.request(.post, "/api/v1/letters/\(overdueID)/approve", headers: [.ifMatch: try #require(overdue.headers[.eTag])])
        let overdueSent = try await app.request(.post, "/api/v1/letters/\(overdueID)/send", json: "{\"method\": \"post\", \"on\": \"\(today)\"}",
                                                headers: [.ifMatch: try #require(overdueApproved.headers[.eTag])])
        try #require(overdueSent.status == .ok)
        try await TestDatabase.sql(app.db, "ALTER TABLE letters DISABLE TRIGGER letters_frozen")
        try await TestDatabase.sql(app.db, "UPDATE letters SET letter_date = letter_date - 60, response_deadline = response_deadline - 60, sent_on = sent_on - 60 WHERE id = '\(overdueID)'")
        try await TestDatabase.sql(app.db, "ALTER TABLE letters ENABLE TRIGGER letters_frozen")

        let campaign = try await app.request(.post, "/api/v1/campaigns", json: """
            {"name": "Grenzkampagne Kuriere", "filter": {"sector": "courier"}}
            """)
        let campaignID = try #require(campaign.object["id"] as? String)

        let level = try await app.request(.get, "/api/v1/facilitators/\(supplier)/cooperation")
        let engaged = try await app.request(.post, "/api/v1/facilitators/\(supplier)/cooperation", json: """
            {"level": "engaged", "reason": "Met the Grenzenlos security team."}
            """, headers: [.ifMatch: try #require(level.headers[.eTag])])
        try #require(engaged.status == .ok)
        let contact = try await app.request(.post, "/api/v1/facilitators/\(supplier)/contacts", json: """
            {"kind": "meeting", "occurred_on": "\(today)", "participants": ["K. Grenz"], "notes": "Walked through the depot."}
            """)
        let committed = try await app.request(.post, "/api/v1/facilitators/\(supplier)/measures", json: """
            {"measure": "named_contact_point", "committed_on": "\(today)", "due_on": "2099-12-31"}
            """)
        let signal = try await app.request(.post, "/api/v1/signals", json: """
            {"type": "logistical", "stage": "shipping", "indicator": "track_and_trace_off", "observed_on": "\(today)",
             "source": "Depot Grenzenlos", "reporter": "Inspector Smit", "description": "Grenzenlos parcels without tracking.",
             "facilitator_ids": ["\(supplier)"]}
            """)
        let signalID = try #require(signal.object["id"] as? String)
        let attached = try await app.request(.post, "/api/v1/signals/\(signalID)/attachments", json: """
            {"name": "depot-log.pdf", "content_type": "application/pdf", "content_base64": "\(Data("%PDF-1.4 log".utf8).base64EncodedString())"}
            """)
        let attachment = try #require((attached.object["attachments"] as? [[String: Any]])?.first?["id"] as? String)
        _ = try await Fixtures.agencyWithUsers(app.db, name: "Customs Office", country: "NL", domain: "customs.example")
        let shared = try await app.request(.post, "/api/v1/signals/\(signalID)/shares", json: """
            {"agency": "Customs Office", "legal_basis": "Art. 8 of the Customs Cooperation Agreement", "handling_note": "Grenzenlos: for customs risk profiling only."}
            """)
        let share = try #require(shared.object["id"] as? String)
        let action = try await app.request(.post, "/api/v1/licensing-actions", json: """
            {"facilitator_id": "\(supplier)", "type": "conditions", "legal_basis": "Article 12(3) of the Postal Services Licensing Act",
             "rationale": "Grenzenlos kept accepting untracked bulk parcels.", "conditions": "Track every parcel.",
             "signal_ids": ["\(signalID)"]}
            """)
        let actionID = try #require(action.object["id"] as? String)
        let year = Int(today.prefix(4))!
        let plan = try await app.request(.post, "/api/v1/action-plans", json: """
            {"title": "Grenzplan \(year)", "coordinating_agency": "Test Inspectorate", "starts_on": "\(year)-01-01", "ends_on": "\(year + 1)-12-31",
             "objectives": ["Couriers report"], "measures": [{"description": "Meet Grenzenlos", "objective": 0}],
             "indicators": [{"name": "Reports", "metric": "manual", "target": 5, "objective": 0}]}
            """)
        let planID = try #require(plan.object["id"] as? String)
        let ids = FirstAgencyCasework(
            supplier: supplier, letter: letter, reference: reference, campaign: campaignID,
            commitment: try #require(committed.object["id"] as? String), contact: try #require(contact.object["id"] as? String),
            signal: signalID, attachment: attachment, share: share, action: actionID, plan: planID, secrets: [])
        var secrets = [letter, reference, campaignID, ids.commitment, ids.contact, signalID, attachment, share, actionID, planID,
                       "customs risk profiling",
                       "Grenzkampagne", "Grenzenlos security team", "Grenzenlos parcels", "Grenzplan", "Walked through the depot"]
        secrets = secrets.filter { !$0.isEmpty }
        var copy = ids
        copy.secrets = secrets
        return copy
    }

    /// `template` with this casework's ids in it.
    func uri(_ template: String) -> String {
        var id = supplier
        for (prefix, value) in [("/api/v1/letters/", letter), ("/api/v1/campaigns/", campaign), ("/api/v1/signals/", signal),
                                ("/api/v1/licensing-actions/", action), ("/api/v1/action-plans/", plan),
                                ("/api/v1/measure-commitments/", commitment)] where template.hasPrefix(prefix) {
            id = value
        }
        return template.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{attachment}", with: attachment)
            .replacingOccurrences(of: "{share}", with: share)
            .replacingOccurrences(of: "{key}", with: "inform_call_to_action.delivery.en").replacingOccurrences(of: "{report}", with: "cooperation")
            .replacingOccurrences(of: "{table}", with: "levels").replacingOccurrences(of: "{position}", with: "0")
    }

    /// Whether `uri` names a record of this casework (not the shared supplier).
    func namesCasework(_ uri: String) -> Bool {
        [letter, campaign, signal, action, plan, commitment].contains { uri.contains($0) }
    }
}

/// A request body that would be valid for the first agency, so that only the boundary can refuse it.
func validBody(_ method: HTTPRequest.Method, _ template: String, _ ids: FirstAgencyCasework, today: String) -> String {
    switch (method, template) {
    case (.post, "/api/v1/letters/{id}/send"): return "{\"method\": \"post\", \"on\": \"\(today)\"}"
    case (.post, "/api/v1/letters/{id}/delivered"): return "{\"on\": \"\(today)\"}"
    case (.post, "/api/v1/letters/{id}/returned"): return "{\"on\": \"\(today)\", \"reason\": \"Moved away.\"}"
    case (.post, "/api/v1/letters/{id}/responded"): return "{\"on\": \"\(today)\", \"channel\": \"email\", \"summary\": \"Answered.\"}"
    case (.post, "/api/v1/measure-commitments/{id}/implemented"): return "{\"on\": \"\(today)\"}"
    case (.post, "/api/v1/measure-commitments/{id}/verified"): return "{\"on\": \"\(today)\", \"method\": \"A test call\"}"
    case (.post, "/api/v1/signals/{id}/corrections"):
        return """
            {"type": "logistical", "stage": "shipping", "indicator": "track_and_trace_off", "observed_on": "\(today)",
             "source": "Elsewhere", "reporter": "Someone", "description": "Rewritten.", "facilitator_ids": ["\(ids.supplier)"],
             "correction_reason": "Rewritten by another agency."}
            """
    case (.post, "/api/v1/signals/{id}/attachments"):
        return "{\"name\": \"x.pdf\", \"content_type\": \"application/pdf\", \"content_base64\": \"JVBERi0xLjQ=\"}"
    case (.post, "/api/v1/licensing-actions/{id}/signals"): return "{\"signal_ids\": [\"\(ids.signal)\"]}"
    case (.post, "/api/v1/signals/{id}/shares"): return "{\"agency\": \"Second Authority\", \"legal_basis\": \"None at all\"}"
    case (.post, "/api/v1/signals/{id}/shares/{share}/revoke"): return "{\"reason\": \"Taken back by another agency.\"}"
    case (.post, "/api/v1/licensing-actions/{id}/withdraw"), (.post, "/api/v1/licensing-actions/{id}/lift"):
        return "{\"reason\": \"Settled.\"}"
    case (.post, "/api/v1/licensing-actions/{id}/appeal"): return "{\"lodged_on\": \"\(today)\", \"grounds\": \"Disputed.\"}"
    case (.post, "/api/v1/licensing-actions/{id}/appeal-outcome"):
        return "{\"outcome\": \"overturned\", \"decided_on\": \"\(today)\", \"reason\": \"Quashed.\"}"
    case (.post, "/api/v1/licensing-actions/{id}/interim-relief"):
        return "{\"ordered_on\": \"\(today)\", \"ordered_by\": \"A court\", \"reason\": \"Ordered.\"}"
    case (.post, "/api/v1/licensing-actions/{id}/referral-outcome"):
        return "{\"outcome\": \"declined\", \"concluded_on\": \"\(today)\", \"note\": \"Not ours.\"}"
    case (.post, "/api/v1/action-plans/{id}/indicators/{position}/measurements"): return "{\"value\": 3, \"on\": \"\(today)\"}"
    case (.post, "/api/v1/action-plans/{id}/measures/{position}/status"): return "{\"status\": \"dropped\"}"
    default: return "{}"
    }
}

/// Every row of casework and of the registry, as one digest: equal digests mean nothing changed.
func caseworkDigest(_ db: Database) async throws -> String {
    let tables = ["facilitators", "letters", "letter_events", "letter_emails", "campaigns", "jobs", "cooperation_levels", "cooperation_changes",
                  "supplier_contacts", "measure_commitments", "signals", "signal_versions", "signal_facilitators", "signal_attachments",
                  "licensing_actions", "licensing_action_signals", "licensing_appeals", "licensing_action_events", "action_plans",
                  "action_plan_objectives", "action_plan_measures", "action_plan_indicators", "signal_shares", "audit_events"]
    var parts: [String] = []
    for table in tables {
        parts.append(table + ":" + (try await TestDatabase.scalar(
            db, "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(table) t") ?? ""))
    }
    return parts.joined(separator: "\n")
}

@Suite("The agency boundary")
struct AgencyBoundaryTests {
    @Test("a second agency's users get 404 or nothing of the first agency's casework on every API route, and change nothing")
    func everyRouteAsASecondAgency() async throws {
        try await TestApp.run { app in
            // setup
            let first = try await FirstAgencyCasework.build(app)
            let second = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let today = try #require(try await TestDatabase.scalar(app.db, "SELECT current_date::text"))
            let before = try await caseworkDigest(app.db)
            // The first agency reaches every record the second must not (so a 404 below is the boundary, not a bad id).
            for template in AccessAndContractTests.matrix.filter({ $0.0 == .get }).map(\.1) where first.namesCasework(first.uri(template)) {
                let own = try await app.request(.get, first.uri(template), as: .admin)
                #expect(own.status != .notFound, "the first agency's own GET \(first.uri(template))")
            }

            // act and check: every route, as the second agency's administrator (who may use them all)
            for (method, template, _) in AccessAndContractTests.matrix {
                let uri = first.uri(template)
                var headers: HTTPFields = [:]
                if method != .get && first.namesCasework(uri) {
                    // The record's current version, so that only the boundary can refuse.
                    let record = uri.components(separatedBy: "/").prefix(5).joined(separator: "/")  // /api/v1/<kind>/<id>
                    let current = try await app.request(.get, record, as: .admin)
                    headers[.ifMatch] = current.headers[.eTag] ?? "\"1\""
                }
                let response = try await app.request(method, uri, token: second[.admin], json: validBody(method, template, first, today: today),
                                                     headers: headers)
                if first.namesCasework(uri) {
                    #expect(response.status == .notFound, "\(method) \(uri) as the second agency gave \(response.status)")
                    #expect(response.isProblem)
                } else {
                    #expect(response.status.code < 500, "\(method) \(uri) as the second agency gave \(response.status)")
                }
                for secret in first.secrets where !uri.contains(secret) {  // a 404 may echo the id it was asked for
                    #expect(!response.text.contains(secret), "\(method) \(uri) showed the second agency '\(secret)'")
                }
            }

            // Lists are empty for the second agency.
            for list in ["/api/v1/letters", "/api/v1/campaigns", "/api/v1/signals", "/api/v1/licensing-actions", "/api/v1/action-plans"] {
                let items = try await app.request(.get, list, token: second[.auditor]).object["items"] as? [Any]
                #expect(items?.isEmpty == true, "\(list) as the second agency")
            }
            let level = try await app.request(.get, "/api/v1/facilitators/\(first.supplier)/cooperation", token: second[.officer])
            #expect(level.object["level"] as? String == "not_contacted")
            #expect((level.object["history"] as? [Any])?.isEmpty == true)
            #expect(try await app.request(.get, "/api/v1/facilitators/\(first.supplier)/cooperation", as: .officer).object["level"] as? String == "engaged")

            // Nothing of the first agency's changed, and the chain still holds.
            let after = try await caseworkDigest(app.db)
            let changed = zip(before.split(separator: "\n"), after.split(separator: "\n")).filter { $0 != $1 }.map { $0.0.prefix { $0 != ":" } }
            #expect(changed.isEmpty, "tables changed by the second agency: \(changed)")
            #expect(try await AuditLog(app.db).verify().firstBroken == nil)
        }
    }
}

@Suite("Letter templates per agency")
struct AgencyTemplateTests {
    @Test("an agency's own template version changes its next letter, not another agency's, and is not shown to it")
    func ownVersionsStayWithTheAgency() async throws {
        try await TestApp.run { app in
            // setup: two agencies with a letterhead, one supplier
            let second = try await Fixtures.agencyWithUsers(app.db, name: "Second Authority", country: "BE", domain: "second.example")
            let letterhead = """
                {"street": "Koningskade 4", "postal_code": "2596 AA", "city": "Den Haag", "email": "barrier@authority.example",
                 "signatory_name": "H. J. Bakker", "signatory_title": "Director"}
                """
            for token in [app.tokens[.admin]!, second[.admin]!] {
                let tag = try await app.request(.get, "/api/v1/agency", token: token).headers[.eTag] ?? ""
                #expect(try await app.request(.patch, "/api/v1/agency", token: token, json: letterhead, headers: [.ifMatch: tag]).status == .ok)
            }
            let supplier = try await app.createAddressedSupplier("Grenzpaket Kurier GmbH", sector: "courier", country: "DE")
            let key = "inform_call_to_action.delivery.en"
            let shipped = try #require((try await app.request(.get, "/api/v1/letter-templates/\(key)", as: .admin).object["items"] as? [[String: Any]])?.first)
            let body = try #require(shipped["body"] as? String)

            // act: the first agency's administrator adds a version
            let added = try await app.request(.post, "/api/v1/letter-templates/\(key)", as: .admin, json: """
                {"body": \(String(data: try JSONSerialization.data(withJSONObject: [body + "\n\nOur reference desk: Grenzmarke Alpha."]), encoding: .utf8)!.dropFirst().dropLast())}
                """)
            #expect(added.status == .created, "\(added.text)")
            #expect(added.object["version"] as? Int == (shipped["version"] as? Int ?? 0) + 1)

            // check: the first agency's next letter uses it; the second agency's does not, nor sees it
            func letterText(_ token: String) async throws -> String {
                let created = try await app.request(.post, "/api/v1/letters", token: token, json: """
                    {"facilitator_id": "\(supplier)", "kind": "inform_call_to_action", "language": "en"}
                    """)
                let id = try #require(created.object["id"] as? String)
                return try await app.request(.get, "/api/v1/letters/\(id).txt", token: token).text
            }
            #expect(try await letterText(app.tokens[.officer]!).contains("Grenzmarke Alpha"))
            #expect(!(try await letterText(second[.officer]!)).contains("Grenzmarke Alpha"))
            let versions = try await app.request(.get, "/api/v1/letter-templates/\(key)", token: second[.admin])
            #expect(versions.status == .ok && !versions.text.contains("Grenzmarke Alpha"))
            #expect(!(try await app.request(.get, "/api/v1/letter-templates", token: second[.auditor]).text.contains("Grenzmarke Alpha")))
            #expect(try await app.request(.get, "/api/v1/letter-templates", as: .auditor).text.contains("Grenzmarke Alpha"))
        }
    }
}
