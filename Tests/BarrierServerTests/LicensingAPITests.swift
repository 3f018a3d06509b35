import BarrierCore
import BarrierServer
import BarrierStore
import BarrierTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

extension TestApp {
    /// Takes a letter through approve → sent → delivered today; returns its document.
    func deliverLetter(_ id: String) async throws -> [String: Any] {
        let approved = try await request(.post, "/api/v1/letters/\(id)/approve", headers: [.ifMatch: try await etag("/api/v1/letters/\(id)")])
        guard approved.status == .ok, let today = approved.object["letter_date"] as? String else {
            throw TestFailure("approve failed: \(approved.status) \(approved.text)")
        }
        let sent = try await request(.post, "/api/v1/letters/\(id)/send", json: "{\"method\": \"registered_post\", \"on\": \"\(today)\"}",
                                     headers: [.ifMatch: approved.headers[.eTag]!])
        let delivered = try await request(.post, "/api/v1/letters/\(id)/delivered", json: "{\"on\": \"\(today)\"}",
                                          headers: [.ifMatch: sent.headers[.eTag]!])
        guard delivered.status == .ok else { throw TestFailure("delivery failed: \(delivered.status) \(delivered.text)") }
        return delivered.object
    }

    /// Moves a letter's dates `days` into the past, as if it had been sent and delivered then.
    func backdate(letter id: String, days: Int) async throws {
        try await TestDatabase.sql(db, "ALTER TABLE letters DISABLE TRIGGER letters_frozen")
        try await TestDatabase.sql(db, """
            UPDATE letters SET letter_date = letter_date - \(days), response_deadline = response_deadline - \(days),
                sent_on = sent_on - \(days), delivered_on = delivered_on - \(days) WHERE id = '\(id)'
            """)
        try await TestDatabase.sql(db, "ALTER TABLE letters ENABLE TRIGGER letters_frozen")
    }

    func signal(about supplier: String, daysAgo: Int, indicator: String = "track_and_trace_off") async throws -> String {
        let day = try await TestDatabase.scalar(db, "SELECT (current_date - \(daysAgo))::text")!
        let created = try await request(.post, "/api/v1/signals", json: """
            {"type": "logistical", "stage": "shipping", "indicator": "\(indicator)", "observed_on": "\(day)",
             "source": "Sorting centre Antwerpen", "reporter": "Inspector Peeters", "facilitator_ids": ["\(supplier)"]}
            """)
        guard created.status == .created, let id = created.object["id"] as? String else { throw TestFailure("signal: \(created.text)") }
        return id
    }

    func registerSuppliers() async throws -> [String] {
        let register = try await request(.get, "/public/register", as: nil)
        return ((register.object["items"] as? [[String: Any]]) ?? []).compactMap { $0["supplier_name"] as? String }
    }
}

@Suite("Licensing actions over HTTP")
struct LicensingAPITests {
    @Test("from the first letter to a revocation: refused by the guard with each missing element, decided by another officer, appealed, upheld, published")
    func revocationWalk() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Colis Express Anvers SA")
            let early = try await app.signal(about: supplier, daysAgo: 90)

            // Bad input: every field named, nothing stored.
            let bad = try await app.request(.post, "/api/v1/licensing-actions", json: """
                {"facilitator_id": "\(supplier)", "type": "fine", "legal_basis": " ", "rationale": "Kept shipping.", "currency": "EURO",
                 "effective_to": "2026-13-01", "signal_ids": ["not-a-uuid"]}
                """)
            #expect(bad.status == .unprocessableContent && bad.isProblem)
            #expect(bad.errorFields == ["legal_basis", "amount_minor", "currency", "effective_to", "signal_ids"])
            #expect(try await TestDatabase.scalar(app.db, "SELECT count(*)::text FROM licensing_actions") == "0")

            // The officer proposes a revocation resting on evidence from before any notice.
            let proposed = try await app.request(.post, "/api/v1/licensing-actions", json: """
                {"facilitator_id": "\(supplier)", "type": "revocation", "legal_basis": "Article 12(3) of the Postal Services Licensing Act",
                 "rationale": "Parcels with track-and-trace switched off were accepted in bulk from a darknet vendor.",
                 "signal_ids": ["\(early)"]}
                """)
            #expect(proposed.status == .created && proposed.headers[.location] != nil)
            let action = try #require(proposed.object["id"] as? String)
            #expect(proposed.object["status"] as? String == "proposed" && proposed.object["proposed_by"] as? String == "officer@inspectorate.example")
            let ladder = try await app.request(.get, "/api/v1/facilitators/\(supplier)/ladder", as: .auditor)
            #expect(ladder.object["suggested_type"] as? String == "warning")

            // Decided now, the guard names every missing element, and nothing changes.
            let refused = try await app.request(.post, "/api/v1/licensing-actions/\(action)/decide", as: .admin, json: "{}",
                                                headers: [.ifMatch: "\"1\""])
            #expect(refused.status == .unprocessableContent && refused.isProblem)
            #expect(refused.object["title"] as? String == "Due process incomplete")
            #expect(refused.errorFields == ["no_notice_reached", "no_evidence_after_notice", "no_notice_of_intent", "ladder_justification"])
            let messages = ((refused.object["errors"] as? [[String: Any]]) ?? []).compactMap { $0["message"] as? String }
            #expect(messages.allSatisfy { $0.count > 30 })
            #expect(try await app.request(.get, "/api/v1/licensing-actions/\(action)").object["status"] as? String == "proposed")

            // The first letter reached the supplier sixty days ago.
            let letter = try await app.request(.post, "/api/v1/letters", json: "{\"facilitator_id\": \"\(supplier)\", \"kind\": \"inform_call_to_action\"}")
            let letterID = try #require(letter.object["id"] as? String)
            _ = try await app.deliverLetter(letterID)
            try await app.backdate(letter: letterID, days: 60)
            let afterNotice = try await app.request(.get, "/api/v1/licensing-actions/\(action)/due-process")
            let codes = ((afterNotice.object["gaps"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String }
            #expect(codes == ["no_evidence_after_notice", "no_notice_of_intent"] && afterNotice.object["ready"] as? Bool == false)

            // Evidence of contribution after the notice, then the notice of intent.
            let late = try await app.signal(about: supplier, daysAgo: 20, indicator: "frequent_consignments")
            let linked = try await app.request(.post, "/api/v1/licensing-actions/\(action)/signals", json: "{\"signal_ids\": [\"\(late)\"]}",
                                               headers: [.ifMatch: "\"1\""])
            #expect(linked.status == .ok && (linked.object["signals"] as? [Any])?.count == 2)
            let other = try await app.createAddressedSupplier("Unrelated Transport NV")
            let foreign = try await app.signal(about: other, daysAgo: 5)
            let wrongSignal = try await app.request(.post, "/api/v1/licensing-actions/\(action)/signals", json: "{\"signal_ids\": [\"\(foreign)\"]}",
                                                    headers: [.ifMatch: linked.headers[.eTag]!])
            #expect(wrongSignal.status == .unprocessableContent && wrongSignal.errorFields == ["signal_ids"])
            let warningNotice = try await app.request(.post, "/api/v1/licensing-actions/\(action)/notice-of-intent", json: "{\"response_days\": 14}",
                                                      headers: [.ifMatch: linked.headers[.eTag]!])
            #expect(warningNotice.status == .ok && warningNotice.object["status"] as? String == "notice_of_intent")
            let noticeLetter = try #require(((warningNotice.object["letters"] as? [[String: Any]])?.first?["id"]) as? String)
            let noticeDraft = try await app.request(.get, "/api/v1/letters/\(noticeLetter).txt")
            let noticeWords = noticeDraft.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(noticeWords.contains("Article 12(3) of the Postal Services Licensing Act") && !noticeWords.contains("ingaan op ."))
            let pending = try await app.request(.get, "/api/v1/licensing-actions/\(action)/due-process")
            #expect(((pending.object["gaps"] as? [[String: Any]]) ?? []).compactMap { $0["code"] as? String } == ["notice_of_intent_not_delivered"])
            let delivered = try await app.deliverLetter(noticeLetter)
            #expect(delivered["licensing_action_id"] as? String == action)
            let running = try await app.request(.post, "/api/v1/licensing-actions/\(action)/decide", as: .admin, json: "{}",
                                                headers: [.ifMatch: warningNotice.headers[.eTag]!])
            #expect(running.status == .unprocessableContent && running.errorFields == ["response_period_running", "ladder_justification"])

            // The supplier answers; the proposer may not decide; the decider must justify skipping the ladder.
            let noticeTag = try await app.etag("/api/v1/letters/\(noticeLetter)")
            let answered = try await app.request(.post, "/api/v1/letters/\(noticeLetter)/responded", json: """
                {"on": "\(delivered["delivered_on"] as! String)", "channel": "letter", "summary": "Contests the facts; no measures offered."}
                """, headers: [.ifMatch: noticeTag])
            #expect(answered.status == .ok)
            let ownDecision = try await app.request(.post, "/api/v1/licensing-actions/\(action)/decide", as: .officer,
                                                    json: "{\"ladder_justification\": \"Repeated and deliberate.\"}",
                                                    headers: [.ifMatch: warningNotice.headers[.eTag]!])
            #expect(ownDecision.status == .forbidden && ownDecision.isProblem)
            #expect((ownDecision.object["detail"] as? String)?.contains("Four-eyes") == true)
            let unjustified = try await app.request(.post, "/api/v1/licensing-actions/\(action)/decide", as: .admin, json: "{}",
                                                    headers: [.ifMatch: warningNotice.headers[.eTag]!])
            // The answer must be weighed in writing before the decision (`response_not_considered`).
            #expect(unjustified.status == .unprocessableContent && unjustified.errorFields == ["response_not_considered", "ladder_justification"],
                    "\(unjustified.text)")
            #expect(try await app.registerSuppliers().isEmpty)
            let decided = try await app.request(.post, "/api/v1/licensing-actions/\(action)/decide", as: .admin, json: """
                {"ladder_justification": "Shipments continued for two months after the supplier was informed; lesser steps would not stop them.",
                 "consideration": "The supplier contests the facts but the track-and-trace records confirm them; it offered no measure."}
                """, headers: [.ifMatch: warningNotice.headers[.eTag]!])
            #expect(decided.status == .ok && decided.object["status"] as? String == "decided", "\(decided.text)")
            #expect(decided.object["decided_by"] as? String == "admin@inspectorate.example" && decided.object["suggested_type"] as? String == "warning")
            #expect(decided.object["in_effect"] as? Bool == true)
            let decisionLetter = try #require(((decided.object["letters"] as? [[String: Any]])?.first { $0["kind"] as? String == "decision_notice" })?["id"] as? String)
            let decisionText = try await app.request(.get, "/api/v1/letters/\(decisionLetter).txt")
            let decisionWords = decisionText.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(decisionWords.contains("Colis Express Anvers SA") && decisionWords.contains("Article 12(3) of the Postal Services Licensing Act"))
            #expect(decisionWords.contains("the track-and-trace records confirm them"), "the decision notice states how the response was weighed")
            // The record it cites and the law it states: the notice of intent, the answer, the signals, and the profile's remedy.
            let decisionRecord = try await app.request(.get, "/api/v1/letters/\(decisionLetter)")
            let language = try #require(decisionRecord.object["language"] as? String)
            let noticeReference = try #require(try await TestDatabase.scalar(app.db, "SELECT reference FROM letters WHERE id = '\(noticeLetter)'"))
            #expect(decisionWords.contains(noticeReference) && decisionWords.contains("Contests the facts; no measures offered."))
            let profile = try Fixtures.empoweredProfile(country: "NL")
            let remedy = try #require(profile.remedy(for: .revocation))
            #expect(decisionWords.contains(remedy.name[language]!) && decisionWords.contains(remedy.body), "\(language): \(remedy.name)")
            #expect(decisionWords.contains(profile.rule(for: .revocation)!.effect[language]!))
            #expect(!decisionWords.contains(noticeReference + " of ,") && !decisionWords.contains(" , "), "an empty value left a gap")

            // Decided but not final: the appeal period has not even started (the letter is a draft), so nothing is published.
            #expect(decided.object["final"] as? Bool == false && decided.object["appeal_ends_on"] is NSNull, "\(decided.text)")
            #expect(try await app.registerSuppliers().isEmpty, "published before the supplier was notified")

            // Appealed: the test profile gives the remedy against a revocation no suspensive effect, so it stays in effect.
            let lateAppeal = try await app.request(.post, "/api/v1/licensing-actions/\(action)/appeal", json: """
                {"lodged_on": "2001-01-01", "grounds": "Disproportionate."}
                """, headers: [.ifMatch: decided.headers[.eTag]!])
            #expect(lateAppeal.status == .unprocessableContent && lateAppeal.errorFields == ["lodged_on"])
            let today = try #require(decided.object["decided_on"] as? String)
            let appealed = try await app.request(.post, "/api/v1/licensing-actions/\(action)/appeal", json: """
                {"lodged_on": "\(today)", "grounds": "The revocation is disproportionate; measures are now in place."}
                """, headers: [.ifMatch: decided.headers[.eTag]!])
            #expect(appealed.status == .ok && appealed.object["status"] as? String == "appealed")
            #expect(appealed.object["in_effect"] as? Bool == true && appealed.object["effect_suspended"] as? Bool == false)
            let appealNote = ((appealed.object["events"] as? [[String: Any]])?.last?["note"] as? String) ?? ""
            #expect(appealNote.contains("stays in effect"), "\(appealNote)")
            #expect(try await app.registerSuppliers().isEmpty)
            let lift = try await app.request(.post, "/api/v1/licensing-actions/\(action)/lift", json: "{\"reason\": \"x\"}",
                                             headers: [.ifMatch: appealed.headers[.eTag]!])
            #expect(lift.status == .conflict && lift.object["allowed"] as? [String] == ["upheld", "varied", "overturned"])

            // Upheld: in effect again, and final once the period of the next remedy the profile names (if any) has run.
            let upheld = try await app.request(.post, "/api/v1/licensing-actions/\(action)/appeal-outcome", json: """
                {"outcome": "upheld", "decided_on": "\(today)", "reason": "The court found the revocation proportionate."}
                """, headers: [.ifMatch: appealed.headers[.eTag]!])
            #expect(upheld.status == .ok && upheld.object["status"] as? String == "upheld" && upheld.object["in_effect"] as? Bool == true)
            if upheld.object["appeal_ends_on"] is String {
                #expect(upheld.object["final"] as? Bool == false)
                #expect(try await app.registerSuppliers().isEmpty, "the next remedy's period is still running")
                try await TestDatabase.sql(app.db, "UPDATE licensing_actions SET appeal_ends_on = current_date - 1")
            }
            #expect(try await app.request(.get, "/api/v1/licensing-actions/\(action)").object["final"] as? Bool == true)
            // Final: in the public register, as JSON and CSV, without staff.
            let register = try await app.request(.get, "/public/register", as: nil)
            let final = try #require((register.object["items"] as? [[String: Any]])?.first)
            #expect(final["supplier_name"] as? String == "Colis Express Anvers SA" && final["type"] as? String == "revocation")
            #expect(final["status"] as? String == "upheld" && final["appeal_outcome"] as? String == "upheld")
            #expect(!register.text.contains("inspectorate.example") && !register.text.contains("Shipments continued"))
            let csv = try await app.request(.get, "/public/register.csv", as: nil)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true && csv.text.contains("Colis Express Anvers SA,BE"))
            let history = ((upheld.object["events"] as? [[String: Any]]) ?? []).compactMap { $0["status"] as? String }
            #expect(history == ["proposed", "notice_of_intent", "decided", "appealed", "upheld"])
            let audited = try await TestDatabase.scalar(app.db, """
                SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM audit_events WHERE action LIKE 'licensing_action.%'
                """)
            #expect(audited == "licensing_action.appeal,licensing_action.appeal_upheld,licensing_action.decide,licensing_action.link_signals,"
                + "licensing_action.notice_of_intent,licensing_action.propose")
            let verified = try await AuditLog(app.db).verify()
            #expect(verified.firstBroken == nil)
        }
    }

    @Test("a warning is decided without prior notice and moves the ladder; a harsher step then needs a justification; withdrawn and overturned actions stay out of the register")
    func warningLadderAndRegister() async throws {
        try await TestApp.run { app in
            let supplier = try await app.createAddressedSupplier("Vakuumpack Handels GmbH", sector: "stealth_packaging", country: "DE")
            let warning = try await app.request(.post, "/api/v1/licensing-actions", json: """
                {"facilitator_id": "\(supplier)", "type": "warning", "legal_basis": "§ 4 Verpackungsaufsichtsgesetz",
                 "rationale": "Anonymous bulk orders of smell-proof bags were shipped to private persons.", "effective_from": "2026-01-01"}
                """)
            #expect(warning.status == .unprocessableContent && warning.errorFields == ["effective_from"])
            let proposed = try await app.request(.post, "/api/v1/licensing-actions", json: """
                {"facilitator_id": "\(supplier)", "type": "warning", "legal_basis": "§ 4 Verpackungsaufsichtsgesetz",
                 "rationale": "Anonymous bulk orders of smell-proof bags were shipped to private persons."}
                """)
            let id = try #require(proposed.object["id"] as? String)
            let notice = try await app.request(.post, "/api/v1/licensing-actions/\(id)/notice-of-intent", json: "{}", headers: [.ifMatch: "\"1\""])
            #expect(notice.status == .conflict)
            let decided = try await app.request(.post, "/api/v1/licensing-actions/\(id)/decide", as: .admin, json: "{}", headers: [.ifMatch: "\"1\""])
            #expect(decided.status == .ok && decided.object["in_effect"] as? Bool == false)
            let letter = try #require((decided.object["letters"] as? [[String: Any]])?.first)
            #expect(letter["kind"] as? String == "warning")
            let text = try await app.request(.get, "/api/v1/letters/\(letter["id"] as! String).txt")
            let words = text.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(words.contains("Vakuumpack Handels GmbH") && words.contains("§ 4 Verpackungsaufsichtsgesetz"))
            #expect(try await app.registerSuppliers().isEmpty, "a warning restricts nothing and is not in the register")
            #expect(try await app.request(.get, "/api/v1/facilitators/\(supplier)/ladder").object["suggested_type"] as? String == "conditions")

            // A fine is punitive, off the remedial ladder: after the warning it needs no justification.
            let fine = try await app.request(.post, "/api/v1/licensing-actions", json: """
                {"facilitator_id": "\(supplier)", "type": "fine", "legal_basis": "§ 9 Verpackungsaufsichtsgesetz",
                 "rationale": "Orders continued.", "amount_minor": 2500000, "currency": "EUR"}
                """)
            let punitive = try await app.request(.get, "/api/v1/licensing-actions/\(try #require(fine.object["id"] as? String))/due-process")
            #expect(punitive.object["suggested_type"] as? String == "conditions" && punitive.object["needs_justification"] as? Bool == false)
            // A suspension skips conditions: it needs a justification even once due process is complete.
            let suspension = try await app.request(.post, "/api/v1/licensing-actions", json: """
                {"facilitator_id": "\(supplier)", "type": "suspension", "legal_basis": "§ 9 Verpackungsaufsichtsgesetz",
                 "rationale": "Orders continued.", "effective_from": "2099-01-01", "effective_to": "2099-03-31"}
                """)
            let suspensionID = try #require(suspension.object["id"] as? String, "\(suspension.text)")
            let check = try await app.request(.get, "/api/v1/licensing-actions/\(suspensionID)/due-process")
            #expect(check.object["suggested_type"] as? String == "conditions" && check.object["needs_justification"] as? Bool == true)
            let withdrawn = try await app.request(.post, "/api/v1/licensing-actions/\(suspensionID)/withdraw", json: "{\"reason\": \"Measures were taken.\"}",
                                                  headers: [.ifMatch: "\"1\""])
            #expect(withdrawn.status == .ok && withdrawn.object["status"] as? String == "withdrawn")
            let afterWithdrawal = try await app.request(.post, "/api/v1/licensing-actions/\(suspensionID)/decide", as: .admin, json: "{}",
                                                        headers: [.ifMatch: withdrawn.headers[.eTag]!])
            #expect(afterWithdrawal.status == .conflict && afterWithdrawal.object["current_status"] as? String == "withdrawn")
            let listed = try await app.request(.get, "/api/v1/licensing-actions?facilitator_id=\(supplier)&status=withdrawn", as: .auditor)
            #expect((listed.object["items"] as? [Any])?.count == 1)
            #expect(try await app.request(.get, "/api/v1/licensing-actions?status=pending").status == .badRequest)
        }
    }
}
