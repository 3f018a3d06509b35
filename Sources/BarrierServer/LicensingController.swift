import BarrierCore
import BarrierStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/licensing-actions`: proposals, notices of intent, decisions behind
/// the due-process guard, appeals and the end of an action; and the ladder.
struct LicensingController {
    let licensing: LicensingStore
    let config: AppConfiguration

    var endpoints: RouteCollection<BarrierRequestContext> {
        let routes = RouteCollection(context: BarrierRequestContext.self)
        routes.get("licensing-actions", use: list)
        routes.post("licensing-actions", use: propose)
        routes.get("licensing-actions/{id}", use: get)
        routes.get("licensing-actions/{id}/due-process", use: dueProcess)
        routes.post("licensing-actions/{id}/signals", use: linkSignals)
        routes.post("licensing-actions/{id}/notice-of-intent", use: noticeOfIntent)
        routes.post("licensing-actions/{id}/decide", use: decide)
        routes.post("licensing-actions/{id}/withdraw", use: withdraw)
        routes.post("licensing-actions/{id}/appeal", use: appeal)
        routes.post("licensing-actions/{id}/appeal-outcome", use: appealOutcome)
        routes.post("licensing-actions/{id}/interim-relief", use: interimRelief)
        routes.post("licensing-actions/{id}/referral-outcome", use: referralOutcome)
        routes.post("licensing-actions/{id}/lift", use: lift)
        routes.get("facilitators/{id}/ladder", use: ladder)
        return routes
    }

    static func answer(_ record: LicensingStore.Record, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [.eTag: "\"\(record.version)\""]
        if status == .created { headers[.location] = "/api/v1/licensing-actions/\(record.id.uuidString.lowercased())" }
        return .json(record.json, status: status, headers: headers)
    }

    @Sendable func list(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        let params = try request.queryParameters(allowed: ["facilitator_id", "status", "type", "limit"])
        var errors = FieldErrors()
        var facilitator: UUID?
        if let raw = params["facilitator_id"] {
            facilitator = UUID(uuidString: raw)
            if facilitator == nil { errors.add("facilitator_id", "must be a UUID") }
        }
        let status = params["status"].flatMap { raw in
            LicensingActionStatus(rawValue: raw) ?? { errors.add("status", LicensingActionStatus.notOne(raw)); return nil }()
        }
        let type = params["type"].flatMap { raw in
            LicensingActionType(rawValue: raw) ?? { errors.add("type", LicensingActionType.notOne(raw)); return nil }()
        }
        var limit = 100
        if let raw = params["limit"] {
            if let n = Int(raw), (1...1000).contains(n) { limit = n } else { errors.add("limit", "must be a whole number from 1 to 1000") }
        }
        if !errors.isEmpty { throw Problem.badRequest("Some query parameters are invalid; each is listed in errors.", errors: errors.errors) }
        let items = try await licensing.list(facilitatorID: facilitator, status: status, type: type, limit: limit)
        return .json("{\"items\":[" + items.joined(separator: ",") + "]}")
    }

    static let proposalFields: Set<String> = [
        "facilitator_id", "type", "legal_basis", "rationale", "conditions", "amount_minor", "currency", "effective_from", "effective_to",
        "signal_ids", "ladder_justification",
    ]

    @Sendable func propose(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        let identity = try context.require(.writers)
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes))
        reader.rejectUnknown(allowed: Self.proposalFields)
        let facilitator = reader.string("facilitator_id")
        let type = reader.enumValue("type", as: LicensingActionType.self)
        let legalBasis = reader.string("legal_basis"), rationale = reader.string("rationale")
        let conditions = reader.string("conditions"), amount = reader.integer("amount_minor"), currency = reader.string("currency")
        let from = reader.string("effective_from"), to = reader.string("effective_to")
        let signals = reader.strings("signal_ids") ?? []
        let justification = reader.string("ladder_justification")
        reader.required("facilitator_id", facilitator)
        reader.required("type", type)
        reader.required("legal_basis", legalBasis)
        reader.required("rationale", rationale)
        guard reader.errors.isEmpty, let facilitator, let type, let legalBasis, let rationale else { throw Problem.invalid(reader.errors.errors) }
        let draft = LicensingActionDraft(
            facilitatorID: facilitator.lowercased(), type: type, legalBasis: legalBasis, rationale: rationale, conditions: conditions,
            amountMinor: amount.map(Int64.init), currency: currency, effectiveFrom: from, effectiveTo: to,
            signalIDs: signals.map { $0.lowercased() }, ladderJustification: justification)
        let record = try await licensing.propose(draft, agencyID: identity.agencyID, actor: identity.actor(requestID: context.requestID))
        return Self.answer(record, status: .created)
    }

    @Sendable func get(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return Self.answer(try await licensing.get(try context.uuidParameter()))
    }

    @Sendable func dueProcess(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return .json(try await licensing.dueProcess(try context.uuidParameter()))
    }

    /// Reads a step's body: the fields it allows, after the role, id and If-Match are checked.
    func step(_ request: Request, _ context: BarrierRequestContext, allowed: Set<String>, bodyOptional: Bool = false)
        async throws -> (actor: Actor, id: UUID, version: Int, reader: FieldReader) {
        let actor = try context.require(.writers).actor(requestID: context.requestID)
        let id = try context.uuidParameter()
        let version = try request.expectedVersion()
        var reader = FieldReader(try await JSONValue.object(from: request, limit: config.maxJSONBytes, emptyIsObject: bodyOptional))
        reader.rejectUnknown(allowed: allowed)
        return (actor, id, version, reader)
    }

    /// `{signal_ids}`.
    @Sendable func linkSignals(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["signal_ids"])
        let signals = reader.strings("signal_ids")
        reader.required("signal_ids", signals)
        // What the list gets wrong on its own is refused (422) before the version is compared.
        if let signals {
            if signals.isEmpty { reader.errors.add("signal_ids", "name at least one signal") }
            if signals.count > 100 { reader.errors.add("signal_ids", "at most 100 signals can be linked at once") }
            for text in signals where UUID(uuidString: text) == nil { reader.errors.add("signal_ids", "'\(text)' is not a signal id (UUID)") }
        }
        guard reader.errors.isEmpty, let signals else { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.linkSignals(id, signals, expectedVersion: version, actor: actor))
    }

    /// `{response_days?, language?}`.
    @Sendable func noticeOfIntent(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["response_days", "language"], bodyOptional: true)
        let days = reader.integer("response_days")
        let language = reader.enumValue("language", as: LetterLanguage.self)
        if let days, !(1...365).contains(days) { reader.errors.add("response_days", "must be between 1 and 365") }
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.issueNoticeOfIntent(id, responseDays: days, language: language, expectedVersion: version, actor: actor))
    }

    /// `{effective_from?, effective_to?, ladder_justification?, consideration?, cooperation_reason?, language?}`.
    @Sendable func decide(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(
            request, context, allowed: ["effective_from", "effective_to", "ladder_justification", "consideration", "cooperation_reason", "language"],
            bodyOptional: true)
        let decision = LicensingStore.Decision(
            effectiveFrom: reader.string("effective_from"), effectiveTo: reader.string("effective_to"),
            ladderJustification: reader.string("ladder_justification"), consideration: reader.string("consideration"),
            cooperationReason: reader.string("cooperation_reason"), language: reader.enumValue("language", as: LetterLanguage.self))
        // The fields' own form is checked before the version (422 before 412); the rest with the record.
        for (field, day) in [("effective_from", decision.effectiveFrom), ("effective_to", decision.effectiveTo)] {
            if let day, !ISODay.isValid(day) { reader.errors.add(field, "must be a day written YYYY-MM-DD") }
        }
        reader.errors.text("ladder_justification", decision.ladderJustification, max: 5_000, required: false)
        reader.errors.text("consideration", decision.consideration, max: 20_000, required: false)
        reader.errors.text("cooperation_reason", decision.cooperationReason, max: 20_000, required: false)
        if !reader.errors.isEmpty { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.decide(id, decision, expectedVersion: version, actor: actor))
    }

    /// `{reason}`.
    @Sendable func withdraw(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["reason"])
        let reason = reader.string("reason")
        reader.required("reason", reason, "is required: say why the action is withdrawn")
        guard reader.errors.isEmpty, let reason else { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.withdraw(id, reason: reason, expectedVersion: version, actor: actor))
    }

    /// `{lodged_on, grounds}`.
    @Sendable func appeal(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["lodged_on", "grounds"])
        let lodged = reader.string("lodged_on"), grounds = reader.string("grounds")
        reader.required("lodged_on", lodged)
        reader.required("grounds", grounds)
        guard reader.errors.isEmpty, let lodged, let grounds else { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.appeal(id, lodgedOn: lodged, grounds: grounds, expectedVersion: version, actor: actor))
    }

    /// `{outcome, decided_on, reason, notified_on?, amount_minor?, effective_from?, effective_to?, conditions?}`: the new
    /// terms only with `varied`.
    @Sendable func appealOutcome(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["outcome", "decided_on", "reason", "notified_on", "amount_minor",
                                                                                      "effective_from", "effective_to", "conditions"])
        let outcome = reader.enumValue("outcome", as: AppealOutcome.self)
        let day = reader.string("decided_on"), reason = reader.string("reason"), notified = reader.string("notified_on")
        let terms = VariedTerms(amountMinor: reader.integer("amount_minor").map(Int64.init), effectiveFrom: reader.string("effective_from"),
                                effectiveTo: reader.string("effective_to"), conditions: reader.string("conditions"))
        reader.required("outcome", outcome)
        reader.required("decided_on", day)
        reader.required("reason", reason)
        guard reader.errors.isEmpty, let outcome, let day, let reason else { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.decideAppeal(id, outcome: outcome, on: day, reason: reason, terms: terms.isEmpty ? nil : terms,
                                                            notifiedOn: notified, expectedVersion: version, actor: actor))
    }

    /// `{ordered_on, ordered_by, reason}`.
    @Sendable func interimRelief(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["ordered_on", "ordered_by", "reason"])
        let day = reader.string("ordered_on"), by = reader.string("ordered_by"), reason = reader.string("reason")
        reader.required("ordered_on", day)
        reader.required("ordered_by", by, "is required: name the court or body that ordered the relief")
        reader.required("reason", reason)
        guard reader.errors.isEmpty, let day, let by, let reason else { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.interimRelief(id, orderedOn: day, orderedBy: by, reason: reason, expectedVersion: version, actor: actor))
    }

    /// `{outcome, concluded_on, note}`.
    @Sendable func referralOutcome(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["outcome", "concluded_on", "note"])
        let outcome = reader.enumValue("outcome", as: ReferralOutcome.self)
        let day = reader.string("concluded_on"), note = reader.string("note")
        reader.required("outcome", outcome)
        reader.required("concluded_on", day)
        reader.required("note", note, "is required: say what the authority decided, with its reference")
        guard reader.errors.isEmpty, let outcome, let day, let note else { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.concludeReferral(id, outcome: outcome, on: day, note: note, expectedVersion: version, actor: actor))
    }

    /// `{reason, lifted_on?}`.
    @Sendable func lift(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        var (actor, id, version, reader) = try await step(request, context, allowed: ["reason", "lifted_on"])
        let reason = reader.string("reason"), day = reader.string("lifted_on")
        reader.required("reason", reason, "is required: say why the action is lifted")
        guard reader.errors.isEmpty, let reason else { throw Problem.invalid(reader.errors.errors) }
        return Self.answer(try await licensing.lift(id, on: day, reason: reason, expectedVersion: version, actor: actor))
    }

    @Sendable func ladder(_ request: Request, context: BarrierRequestContext) async throws -> Response {
        _ = try context.require(.everyone)
        return .json(try await licensing.ladder(facilitatorID: try context.uuidParameter()))
    }
}

/// `/public/register`: the final restrictive actions, for anyone, as JSON or CSV.
struct PublicRegisterController {
    let licensing: LicensingStore

    func register(on router: Router<BarrierRequestContext>) {
        router.get("public/register") { request, _ -> Response in
            _ = try request.queryParameters(allowed: [])
            let accept = request.headers[.accept] ?? ""
            if accept.contains("text/csv") && !accept.contains("application/json") { return try await csv() }
            return try await json()
        }
        router.get("public/register.csv") { request, _ -> Response in
            _ = try request.queryParameters(allowed: [])
            return try await csv()
        }
    }

    func json() async throws -> Response {
        let items = try await licensing.publicRegister().map { item in item.mapValues { ($0 as Any?) ?? NSNull() } }
        let data = try JSONSerialization.data(withJSONObject: ["items": items], options: [.sortedKeys, .withoutEscapingSlashes])
        return .json(String(decoding: data, as: UTF8.self))
    }

    func csv() async throws -> Response {
        Response(status: .ok,
                 headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"register.csv\""],
                 body: .init(byteBuffer: ByteBuffer(data: try await licensing.publicRegisterCSV())))
    }
}
