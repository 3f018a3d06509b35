import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// Licensing in the browser: proposing an action with its evidence, the
/// action's page with the due-process checklist before the decide button (each
/// element present or missing, with a link to what would fill it), the
/// ladder's suggestion, the four-eyes rule made visible, and every later step.
/// Each step calls the `LicensingStore` use case the API calls.
extension PageController {
    func registerLicensingPages(on router: Router<BarrierRequestContext>) {
        router.get("actions") { request, _ in try await withSession(request) { session in try await actionList(session) } }
        router.get("actions/new") { request, _ in
            let supplier = request.uri.queryParameters["facilitator_id"].flatMap { UUID(uuidString: String($0)) }
            return try await withSession(request, roles: RoleSets.writers) { session in
                guard let supplier else { throw Problem.badRequest("Open the form from a supplier's page.") }
                return try await proposalForm(supplier, session: session, values: [:])
            }
        }
        router.post("actions") { request, _ in try await withForm(request, roles: RoleSets.writers) { s, f in try await propose(f, session: s) } }
        router.get("actions/{id}") { request, context in
            try await withSession(request) { session in try await actionPage(try context.uuidParameter(), session: session) }
        }
        router.post("actions/{id}/{step}") { request, context in
            let id = try context.uuidParameter()
            let step = context.parameters.get("step") ?? ""
            return try await withForm(request, roles: RoleSets.writers) { s, f in try await actionStep(id, step: step, f, session: s) }
        }
    }

    // MARK: Proposing

    func proposalForm(_ supplier: UUID, session: PageSession, values: [String: Any], errors: [FieldError] = [],
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let record = try await facilitators.get(supplier)
        var data = values
        data["facilitator_id"] = supplier.uuidString.lowercased()
        data["supplier_name"] = Self.object(record.json)["legal_name"] ?? ""
        let chosenType = values["type"] as? String
        data["types"] = LicensingActionType.allCases.map { ["code": $0.rawValue, "selected": chosenType == $0.rawValue] }
        let ladder = Self.object(try await licensing.ladder(facilitatorID: supplier))
        data["suggested"] = ladder["suggested_type"] ?? ""
        let chosen = Set(values["signal_ids"] as? [String] ?? [])
        data["signals"] = try await signals.list(facilitatorID: supplier, limit: 200).map { json -> [String: Any] in
            let o = Self.object(json)
            let id = o["id"] as? String ?? ""
            return ["id": id, "observed_on": o["observed_on"] ?? "", "type": o["type"] ?? "", "label": o["indicator_label"] ?? "",
                    "source": o["source"] ?? "", "checked": chosen.contains(id)]
        }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        data["errors"] = messages
        data["invalid"] = !errors.isEmpty
        return pages.page("action_form", title: pages.text("licensing.proposeTitle"), data, session: session, status: status)
    }

    /// A decimal amount in the currency's main unit ("5000", "5000.50") as minor units (two places).
    static func minorUnits(_ text: String?) -> (Int64?, Bool) {
        guard let text, !text.isEmpty else { return (nil, true) }
        let parts = text.replacingOccurrences(of: ",", with: ".").split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int64(parts[0]), whole >= 0, parts.count == 1 || (parts[1].count <= 2 && Int64(parts[1]) != nil)
        else { return (nil, false) }
        let cents = parts.count == 2 ? Int64(parts[1].padding(toLength: 2, withPad: "0", startingAt: 0))! : 0
        return (whole * 100 + cents, true)
    }

    func propose(_ form: PageForm, session: PageSession) async throws -> Response {
        guard let supplier = form.text("facilitator_id").flatMap(UUID.init(uuidString:)) else {
            throw Problem.badRequest("The form names no supplier.")
        }
        var values: [String: Any] = [:]
        for key in ["type", "legal_basis", "rationale", "conditions", "amount", "currency", "effective_from", "effective_to", "ladder_justification"] {
            values[key] = form[key] ?? ""
        }
        values["signal_ids"] = form.all("signal_ids")
        let (amount, amountValid) = Self.minorUnits(form.text("amount"))
        var problems: [FieldError] = []
        let type = form.text("type").flatMap(LicensingActionType.init(rawValue:))
        if type == nil { problems.append(FieldError(field: "type", message: "choose the type of action")) }
        if !amountValid { problems.append(FieldError(field: "amount", message: "must be an amount such as 5000 or 5000.50")) }
        if problems.isEmpty, let type {
            let draft = LicensingActionDraft(
                facilitatorID: supplier.uuidString.lowercased(), type: type, legalBasis: form.text("legal_basis") ?? "",
                rationale: form.text("rationale") ?? "", conditions: form.text("conditions"), amountMinor: amount,
                currency: form.text("currency")?.uppercased(), effectiveFrom: form.text("effective_from"), effectiveTo: form.text("effective_to"),
                signalIDs: form.all("signal_ids"), ladderJustification: form.text("ladder_justification"))
            do {
                let record = try await licensing.propose(draft, agencyID: session.identity.agencyID, actor: session.identity.actor(requestID: nil))
                return Response(status: .seeOther, headers: [.location: "/actions/\(record.id.uuidString.lowercased())"])
            } catch StoreError.invalid(let errors) {
                problems = errors.map { $0.field == "amount_minor" ? FieldError(field: "amount", message: $0.message) : $0 }
            }
        }
        return try await proposalForm(supplier, session: session, values: values, errors: problems, status: .unprocessableContent)
    }

    // MARK: The action's page

    /// The checklist's elements in order: the gap each stands for, and where to go to fill it.
    static let dueProcessElements: [(DueProcessGap.Code, String)] = [
        (.noNoticeReached, "supplier"), (.noEvidenceAfterNotice, "evidence"), (.noNoticeOfIntent, "notice"),
        (.noticeOfIntentNotDelivered, "noticeLetter"), (.responsePeriodRunning, "noticeLetter"),
        (.noticeNotOwnAgency, "supplier"), (.evidenceChanged, "evidence"), (.cooperationNotConsidered, "decide"),
        (.responseNotConsidered, "decide"),
    ]

    func actionPage(_ id: UUID, session: PageSession, flash: String? = nil, errors: [FieldError] = [],
                    refusal: (title: String, detail: String)? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let record = try await licensing.get(id)
        var o = Self.object(record.json)
        o["version"] = record.version
        let state = LicensingActionStatus(rawValue: o["status"] as? String ?? "") ?? .proposed
        let type = LicensingActionType(rawValue: o["type"] as? String ?? "") ?? .warning
        let supplier = o["facilitator_id"] as? String ?? ""
        let letters = (o["letters"] as? [[String: Any]] ?? []).map { $0.mapValues { $0 is NSNull ? "" : $0 } }
        o["letters"] = letters
        o["signals"] = (o["signals"] as? [[String: Any]] ?? []).map { $0.mapValues { $0 is NSNull ? "" : $0 } }
        o["events"] = (o["events"] as? [[String: Any]] ?? []).map { $0.mapValues { $0 is NSNull ? "" : $0 } }
        if let amount = o["amount_minor"] as? Int, let currency = o["currency"] as? String {
            o["amount_text"] = "\(amount / 100).\(String(format: "%02d", amount % 100)) \(currency)"
        }
        let notice = letters.last { $0["kind"] as? String == LetterKind.noticeOfIntent.rawValue }
        let open = state.canMove(to: .decided)
        if open {
            let due = Self.object(try await licensing.dueProcess(id))
            let gaps = Dictionary((due["gaps"] as? [[String: Any]] ?? []).compactMap { g -> (String, String)? in
                guard let code = g["code"] as? String else { return nil }
                return (code, g["message"] as? String ?? "")
            }, uniquingKeysWith: { a, _ in a })
            if type.isRestrictive {
                // The first five elements are always listed; the others only where they apply
                // (another agency's letter, a corrected signal, cooperation or an answer to weigh).
                let always = Set(Self.dueProcessElements.prefix(5).map(\.0))
                o["checklist"] = Self.dueProcessElements.filter { always.contains($0.0) || gaps[$0.0.rawValue] != nil }.map { code, target -> [String: Any] in
                    var href: String
                    switch target {
                    case "supplier": href = "/suppliers/\(supplier)"
                    case "evidence": href = "#evidence"
                    case "notice": href = "#notice"
                    case "decide": href = "#decide"
                    default: href = (notice?["id"] as? String).map { "/letters/\($0)" } ?? "#notice"
                    }
                    // Delivery and the response period are steps of the notice of intent:
                    // without one they are missing too, not met.
                    let awaitsNotice = target == "noticeLetter" && gaps[DueProcessGap.Code.noNoticeOfIntent.rawValue] != nil
                    let message = gaps[code.rawValue] ?? (awaitsNotice ? pages.text("licensing.element.awaits_notice") : "")
                    return ["label": pages.text("licensing.element.\(code.rawValue)"), "present": message.isEmpty,
                            "message": message, "href": href]
                }
            }
            o["ready"] = due["ready"] as? Bool ?? false
            o["suggested"] = due["suggested_type"] ?? ""
            o["needsJustification"] = due["needs_justification"] as? Bool ?? false
            // Four eyes, made visible: the proposer waits for a second officer.
            o["waitingForSecondOfficer"] = (o["proposed_by"] as? String) == session.identity.actor(requestID: nil).label
            let linked = Set((o["signals"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            if let facilitator = UUID(uuidString: supplier) {
                o["linkable"] = try await signals.list(facilitatorID: facilitator, limit: 200).compactMap { json -> [String: Any]? in
                    let s = Self.object(json)
                    guard let sid = s["id"] as? String, !linked.contains(sid) else { return nil }
                    return ["id": sid, "observed_on": s["observed_on"] ?? "", "type": s["type"] ?? "", "label": s["indicator_label"] ?? ""]
                }
            }
        }
        o["canNotice"] = open && type.isRestrictive && state.canMove(to: .noticeOfIntent)
        o["canDecide"] = open
        o["canWithdraw"] = state.canMove(to: .withdrawn, for: type)
        o["canAppeal"] = state.canMove(to: .appealed, for: type)
        o["canAppealOutcome"] = state.canMove(to: .upheld, for: type)
        o["canVary"] = type != .warning
        o["canRelief"] = state == .appealed && !(o["effect_suspended"] as? Bool ?? false)
        o["canLift"] = state.canMove(to: .lifted, for: type)
        o["canConclude"] = state.canMove(to: .concluded, for: type)
        o["referralOutcomes"] = ReferralOutcome.allCases.map(\.rawValue)
        // The appeal's stages, each with its remedy, outcome, varied terms and any interim relief.
        let stages = (o["appeals"] as? [[String: Any]] ?? []).map { stage -> [String: Any] in
            var row = stage.mapValues { $0 is NSNull ? "" : $0 }
            if let relief = stage["interim_relief"] as? [String: Any] { row["relief"] = relief.mapValues { $0 is NSNull ? "" : $0 } } else { row["relief"] = "" }
            if let terms = stage["varied_terms"] as? [String: Any] {
                row["varied"] = terms.filter { !($0.value is NSNull) }.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            }
            return row
        }
        o["stages"] = stages
        o["stagesAny"] = !stages.isEmpty
        if let referral = o["referral"] as? [String: Any], referral["outcome"] is String { o["referralDone"] = referral }
        o["languages"] = LetterLanguage.allCases.map(\.rawValue)
        var messages: [String: String] = [:]
        for e in errors where messages[e.field] == nil { messages[e.field] = e.message }
        o["errors"] = messages
        o["problems"] = errors.map { ["field": $0.field, "message": $0.message] }
        o["invalid"] = !errors.isEmpty && refusal == nil
        if let refusal { o["refusal"] = ["title": refusal.title, "detail": refusal.detail] }
        let title = "\(type.rawValue) · \(o["supplier_name"] as? String ?? "")"
        return pages.page("action", title: title, o, session: session, status: status, flash: flash)
    }

    func actionStep(_ id: UUID, step: String, _ form: PageForm, session: PageSession) async throws -> Response {
        let actor = session.identity.actor(requestID: nil)
        let version = try version(form)
        do {
            switch step {
            case "signals":
                _ = try await licensing.linkSignals(id, form.all("signal_ids"), expectedVersion: version, actor: actor)
            case "notice":
                var days: Int?
                if let raw = form.text("response_days") {
                    guard let n = Int(raw) else { throw StoreError.invalid([FieldError(field: "response_days", message: "must be a whole number")]) }
                    days = n
                }
                _ = try await licensing.issueNoticeOfIntent(id, responseDays: days, language: form.text("language").flatMap(LetterLanguage.init(rawValue:)),
                                                            expectedVersion: version, actor: actor)
            case "decide":
                _ = try await licensing.decide(id, .init(effectiveFrom: form.text("effective_from"), effectiveTo: form.text("effective_to"),
                                                         ladderJustification: form.text("ladder_justification"),
                                                         consideration: form.text("consideration"), cooperationReason: form.text("cooperation_reason"),
                                                         language: form.text("language").flatMap(LetterLanguage.init(rawValue:))),
                                               expectedVersion: version, actor: actor)
            case "withdraw":
                _ = try await licensing.withdraw(id, reason: form.text("reason") ?? "", expectedVersion: version, actor: actor)
            case "appeal":
                _ = try await licensing.appeal(id, lodgedOn: form.text("lodged_on") ?? "", grounds: form.text("grounds") ?? "",
                                               expectedVersion: version, actor: actor)
            case "appeal-outcome":
                guard let outcome = form.text("outcome").flatMap(AppealOutcome.init(rawValue:)) else {
                    throw StoreError.invalid([FieldError(field: "outcome", message: "choose upheld, varied or overturned")])
                }
                var amount: Int64?
                if let raw = form.text("amount_minor") {
                    guard let n = Int64(raw) else { throw StoreError.invalid([FieldError(field: "amount_minor", message: "must be a whole number of cents")]) }
                    amount = n
                }
                let terms = VariedTerms(amountMinor: amount, effectiveFrom: form.text("effective_from"), effectiveTo: form.text("effective_to"),
                                        conditions: form.text("conditions"))
                _ = try await licensing.decideAppeal(id, outcome: outcome, on: form.text("decided_on") ?? "", reason: form.text("reason") ?? "",
                                                     terms: terms.isEmpty ? nil : terms, notifiedOn: form.text("notified_on"),
                                                     expectedVersion: version, actor: actor)
            case "interim-relief":
                _ = try await licensing.interimRelief(id, orderedOn: form.text("ordered_on") ?? "", orderedBy: form.text("ordered_by") ?? "",
                                                      reason: form.text("reason") ?? "", expectedVersion: version, actor: actor)
            case "referral-outcome":
                guard let outcome = form.text("outcome").flatMap(ReferralOutcome.init(rawValue:)) else {
                    throw StoreError.invalid([FieldError(field: "outcome", message: "choose what the authority did")])
                }
                _ = try await licensing.concludeReferral(id, outcome: outcome, on: form.text("concluded_on") ?? "", note: form.text("note") ?? "",
                                                         expectedVersion: version, actor: actor)
            case "lift":
                _ = try await licensing.lift(id, on: form.text("lifted_on"), reason: form.text("reason") ?? "", expectedVersion: version, actor: actor)
            default:
                throw Problem(.notFound, "Not found", detail: "There is no step '\(step)'.")
            }
            return try await actionPage(id, session: session, flash: pages.text("licensing.done.\(step)"))
        } catch StoreError.invalid(let problems) {
            return try await actionPage(id, session: session, errors: problems, status: .unprocessableContent)
        } catch StoreError.refused(let title, let detail, let problems) {
            return try await actionPage(id, session: session, errors: problems, refusal: (title, detail), status: .unprocessableContent)
        }
    }

    // MARK: The list

    func actionList(_ session: PageSession) async throws -> Response {
        let items = try await licensing.list(limit: 200).map { json -> [String: Any] in
            let o = Self.object(json)
            return ["id": o["id"] ?? "", "supplier": o["supplier_name"] ?? "", "facilitator_id": o["facilitator_id"] ?? "",
                    "type": o["type"] ?? "", "status": o["status"] ?? "", "proposed_at": (o["proposed_at"] as? String ?? "").prefix(10),
                    "decided_on": o["decided_on"] as? String ?? ""]
        }
        return pages.page("actions", title: pages.text("licensing.listTitle"), ["items": items], session: session)
    }
}
