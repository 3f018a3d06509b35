import BarrierCore
import BarrierLetters
import Foundation
import PostgresNIO

/// Licensing actions against suppliers who knowingly keep contributing: the
/// proposal with its evidence, the notice of intent, the decision behind the
/// due-process guard, the four-eyes rule and the ladder, the appeal, and the
/// end of the action. Each step is one transaction with its audit event.
public struct LicensingStore: Sendable {
    let db: Database
    let letters: LetterStore

    public init(_ db: Database, letters: LetterStore) {
        self.db = db
        self.letters = letters
    }

    public struct Record: Sendable {
        public var id: UUID
        public var json: String
        public var version: Int
    }

    /// What a decision may add to the proposal.
    public struct Decision: Sendable {
        public var effectiveFrom: String?
        public var effectiveTo: String?
        public var ladderJustification: String?
        public var consideration: String?
        public var cooperationReason: String?
        public var language: LetterLanguage?

        public init(effectiveFrom: String? = nil, effectiveTo: String? = nil, ladderJustification: String? = nil,
                    consideration: String? = nil, cooperationReason: String? = nil, language: LetterLanguage? = nil) {
            self.effectiveFrom = effectiveFrom; self.effectiveTo = effectiveTo
            self.ladderJustification = ladderJustification; self.consideration = consideration
            self.cooperationReason = cooperationReason; self.language = language
        }
    }

    // MARK: Reading

    public func get(_ id: UUID) async throws -> Record {
        let rows = try await db.query(
            "SELECT document::text, version FROM licensing_action_documents WHERE id = \(id)")
        for try await (json, version) in rows.decode((String, Int).self) { return Record(id: id, json: json, version: version) }
        throw StoreError.notFound(entity: "licensing action", id: id.uuidString.lowercased())
    }

    /// Actions, newest proposal first, by supplier, status or type.
    public func list(facilitatorID: UUID? = nil, status: LicensingActionStatus? = nil, type: LicensingActionType? = nil,
                     limit: Int = 100) async throws -> [String] {
        var binds = SQLBinds()
        var sql = "SELECT d.document::text FROM licensing_action_documents d JOIN licensing_actions a ON a.id = d.id WHERE true"
        if let facilitatorID { sql += " AND a.facilitator_id = \(binds.add(facilitatorID))" }
        if let status { sql += " AND a.status = \(binds.add(status.rawValue))" }
        if let type { sql += " AND a.type = \(binds.add(type.rawValue))" }
        sql += " ORDER BY a.proposed_at DESC, a.id LIMIT \(binds.add(limit))"
        var items: [String] = []
        for try await json in try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds.binds)).decode(String.self) {
            items.append(json)
        }
        return items
    }

    /// The step the proportionality ladder suggests for a supplier, with the record it rests on.
    public func ladder(facilitatorID: UUID) async throws -> String {
        try await db.transaction { conn in
            guard try await supplierStatus(facilitatorID, on: conn) != nil else {
                throw StoreError.notFound(entity: "facilitator", id: facilitatorID.uuidString.lowercased())
            }
            // The ladder reads the asking agency's own record of the supplier, within the profile's look-back period.
            var years: Int?
            for try await agency in try await conn.query("SELECT current_agency()", logger: db.logger).decode(UUID?.self) {
                if let agency { years = try await ProcedureProfileStore(db).current(agency, on: conn).profile.recordYears }
            }
            let since = ProportionalityLadder.recordSince(today: try await LetterStore.today(on: conn, logger: db.logger), years: years)
            let record = try await Self.record(of: facilitatorID, agency: nil, excluding: nil, since: since, on: conn, logger: db.logger)
            let suggested = ProportionalityLadder.suggestion(after: record.map(\.type))
            let items = record.map {
                "{\"id\":\"\($0.id.uuidString.lowercased())\",\"type\":\"\($0.type.rawValue)\",\"status\":\"\($0.status)\",\"decided_on\":\"\($0.decidedOn)\"}"
            }
            return "{\"facilitator_id\":\"\(facilitatorID.uuidString.lowercased())\",\"suggested_type\":\"\(suggested.rawValue)\","
                + "\"ladder\":[\"warning\",\"conditions\",\"suspension\",\"revocation\"],\"punitive\":[\"fine\"],"
                + "\"record_since\":" + (since.map { "\"\($0)\"" } ?? "null") + ",\"record\":[" + items.joined(separator: ",") + "]}"
        }
    }

    /// Whether the action could be decided today, and what the record lacks if not.
    public func dueProcess(_ id: UUID) async throws -> String {
        try await db.transaction { conn in
            let action = try await lock(id, forUpdate: false, on: conn)
            let today = try await LetterStore.today(on: conn, logger: db.logger)
            let profile = try await ProcedureProfileStore(db).current(action.agencyID, on: conn).profile
            let loaded = try await loadCase(action, today: today, profile: profile, on: conn)
            let (gaps, suggested) = (loaded.gaps, loaded.suggested)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let gapJSON = String(decoding: try encoder.encode(gaps), as: UTF8.self)
            return "{\"id\":\"\(id.uuidString.lowercased())\",\"type\":\"\(action.type.rawValue)\",\"status\":\"\(action.status.rawValue)\","
                + "\"restrictive\":\(action.type.isRestrictive),\"ready\":\(gaps.isEmpty),\"gaps\":\(gapJSON),"
                + "\"suggested_type\":\"\(suggested.rawValue)\","
                + "\"needs_justification\":\(ProportionalityLadder.needsJustification(action.type, suggested: suggested))}"
        }
    }

    // MARK: Proposing

    /// Proposes an action, as one use case: the supplier and the evidence named
    /// loaded, Core's `LicensingProposal`, then the action saved with its
    /// evidence links, first event and audit event.
    public func propose(_ draft: LicensingActionDraft, agencyID: UUID, actor: Actor) async throws -> Record {
        try await db.transaction { conn in
            let facilitatorID = UUID(uuidString: draft.facilitatorID)
            let supplier: ProposedSupplier
            if let facilitatorID {
                switch try await supplierStatus(facilitatorID, on: conn) {
                case nil: supplier = .unknown
                case "archived": supplier = .archived
                default: supplier = .registered
                }
            } else {
                supplier = .malformedID
            }
            let (evidence, signals) = try await namedSignals(draft.signalIDs, facilitatorID: facilitatorID, on: conn)
            let powers = Set(try await ProcedureProfileStore(db).current(agencyID, on: conn).profile.competentTypes)
            let problems = LicensingProposal.problems(draft, supplier: supplier, evidence: evidence, powers: powers)
            if !problems.isEmpty { throw StoreError.invalid(problems) }
            let id = UUID()
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            try await conn.query(
                """
                INSERT INTO licensing_actions (id, facilitator_id, agency_id, type, legal_basis, rationale, conditions, amount_minor, currency,
                    effective_from, effective_to, ladder_justification, proposed_by, proposed_by_label)
                VALUES (\(id), \(facilitatorID!), \(agencyID), \(draft.type.rawValue), \(draft.legalBasis), \(draft.rationale), \(draft.conditions),
                    \(draft.amountMinor), \(draft.currency), \(draft.effectiveFrom)::date, \(draft.effectiveTo)::date, \(draft.ladderJustification),
                    \(userID), \(actor.label))
                """, logger: db.logger)
            try await link(id, signals: signals, actor: actor, on: conn)
            let today = try await LetterStore.today(on: conn, logger: db.logger)
            try await addEvent(id, status: .proposed, on: today, note: nil, actor: actor, on: conn)
            let record = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: "licensing_action.propose", entityType: "licensing_action",
                                      entityID: id.uuidString.lowercased(), before: nil, after: record.json, logger: db.logger)
            return record
        }
    }

    /// Links more evidence to an action that is not yet decided: the signals
    /// loaded as the agency sees them, Core's `EvidenceLinking`, the links saved.
    public func linkSignals(_ id: UUID, _ signalIDs: [String], expectedVersion: Int, actor: Actor) async throws -> Record {
        try await change(id, to: nil, expectedVersion: expectedVersion, actor: actor, auditAction: "licensing_action.link_signals") { conn, action, _ in
            let (evidence, signals) = try await namedSignals(signalIDs, facilitatorID: action.facilitatorID, on: conn)
            switch EvidenceLinking.refusal(status: action.status, evidence: evidence) {
            case nil: break
            case .decidedAlready(let status):
                throw StoreError.conflict("the action is \(status.rawValue); evidence is linked before the decision")
            case .invalid(let problems): throw StoreError.invalid(problems)
            }
            try await link(id, signals: signals, actor: actor, on: conn)
            return nil
        }
    }

    // MARK: Notice of intent and decision

    /// Writes the notice of intent (a draft letter to approve and send) and
    /// moves the action to `notice_of_intent`. A notice that came back
    /// undelivered can be issued again.
    public func issueNoticeOfIntent(_ id: UUID, responseDays: Int?, language: LetterLanguage?, expectedVersion: Int,
                                    actor: Actor) async throws -> Record {
        try await change(id, to: .noticeOfIntent, expectedVersion: expectedVersion, actor: actor,
                         auditAction: "licensing_action.notice_of_intent") { conn, action, _ in
            let latest = try await latestNotice(id, on: conn)
            let c = NoticeOfIntentCase(type: action.type, status: action.status,
                                       latestNotice: latest.map { ($0.reference, LetterStatus(rawValue: $0.status)!) })
            let powers = Set(try await ProcedureProfileStore(db).current(action.agencyID, on: conn).profile.competentTypes)
            if let noPower = LicensingPowers.refusal(action.type, powers: powers) { throw StoreError.invalid([noPower]) }
            switch NoticeOfIntentIssue.refusal(c, responseDays: responseDays) {
            case nil: break
            case .transition(let from, let allowed):
                throw StoreError.transition(entity: "licensing action", from: from.rawValue, to: LicensingActionStatus.noticeOfIntent.rawValue,
                                            allowed: allowed.map(\.rawValue))
            case .notRestrictive(let type):
                throw StoreError.conflict(type == .warning ? "a warning is itself a notice: decide it directly, without a notice of intent"
                                          : "a referral restricts nothing: decide it directly, without a notice of intent; the authority it goes to hears the supplier")
            case .outstanding(let reference, let status):
                throw StoreError.conflict(
                    "notice of intent \(reference ?? "(draft)") is \(status.rawValue); a new one is issued only when it came back undelivered")
            case .invalid(let problems): throw StoreError.invalid(problems)
            }
            let agency = try await letters.loadAgency(action.agencyID, on: conn)
            let letter = try await letters.draftActionLetter(
                actionID: id, facilitatorID: action.facilitatorID, agencyID: action.agencyID, kind: .noticeOfIntent, language: language,
                responseDays: responseDays ?? agency.responseDays, actor: actor, on: conn)
            return "letter \(letter.id.uuidString.lowercased())"
        }
    }

    /// Decides the action, when the four-eyes rule, the due-process guard and
    /// the ladder allow it, and drafts its decision notice (or, for a warning,
    /// the warning letter).
    public func decide(_ id: UUID, _ decision: Decision, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await change(id, to: .decided, expectedVersion: expectedVersion, actor: actor, auditAction: "licensing_action.decide") { conn, action, today in
            // Load the case, ask Core for the decision, save its outcome.
            // The agency's procedure profile, read once: the case's powers and look-back, and the suspensive effect below.
            let profile = try await ProcedureProfileStore(db).current(action.agencyID, on: conn).profile
            let loaded = try await loadCase(action, today: today, profile: profile, on: conn)
            let request = DecisionRequest(effectiveFrom: decision.effectiveFrom, effectiveTo: decision.effectiveTo,
                                          ladderJustification: decision.ladderJustification, consideration: decision.consideration,
                                          cooperationReason: decision.cooperationReason)
            let outcome: LicensingDecision.Outcome
            switch LicensingDecision.decide(loaded, request, by: actor.person) {
            case .success(let decided): outcome = decided
            case .failure(.transition(let from, let allowed)):
                throw StoreError.transition(entity: "licensing action", from: from.rawValue, to: LicensingActionStatus.decided.rawValue,
                                            allowed: allowed.map(\.rawValue))
            case .failure(.fourEyes(let refusal)): throw StoreError.forbidden(refusal)
            case .failure(.dueProcess(let gaps, let problems)):
                throw StoreError.refused(
                    title: "Due process incomplete",
                    detail: "The \(action.type.rawValue) cannot be decided: the record lacks \(gaps.count) element(s) of due process; each is listed in errors.",
                    errors: gaps.map { FieldError(field: $0.code.rawValue, message: $0.message) } + problems)
            case .failure(.invalid(let problems)): throw StoreError.invalid(problems)
            }
            let draft = outcome.draft
            let userID = actor.userID.flatMap(UUID.init(uuidString:))
            let agency = try await letters.loadAgency(action.agencyID, on: conn)
            // Whether an appeal suspends the decision is the profile's rule for the type at the decision.
            let suspends = profile.rule(for: action.type)?.suspensiveEffect ?? true
            try await conn.query(
                """
                UPDATE licensing_actions SET decided_on = \(today)::date, decided_at = now(), decided_by = \(userID), decided_by_label = \(actor.label),
                    suggested_type = \(outcome.suggested.rawValue), ladder_justification = \(draft.ladderJustification),
                    effective_from = \(draft.effectiveFrom)::date, effective_to = \(draft.effectiveTo)::date,
                    consideration = \(decision.consideration?.trimmingWhitespace), cooperation_reason = \(decision.cooperationReason?.trimmingWhitespace),
                    appeal_suspends = \(suspends)
                WHERE id = \(id)
                """, logger: db.logger)
            // A referral is written in the language of the authority it goes to, the profile's jurisdiction.
            let language = decision.language ?? (outcome.letter == .referral ? LetterLanguage.forCountry(profile.jurisdiction) : nil)
            let letter = try await letters.draftActionLetter(
                actionID: id, facilitatorID: action.facilitatorID, agencyID: action.agencyID, kind: outcome.letter, language: language,
                responseDays: outcome.letter == .decisionNotice ? try await appealDays(action.agencyID, on: conn) : agency.responseDays,
                actor: actor, on: conn)
            return "letter \(letter.id.uuidString.lowercased())"
        }
    }

    public func withdraw(_ id: UUID, reason: String, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await step(id, .withdraw(reason: reason), expectedVersion: expectedVersion, actor: actor, auditAction: "licensing_action.withdraw")
    }

    // MARK: Appeal and end

    /// Records an appeal at its next stage: the remedy against the decision, lodged within the profile's period,
    /// or, after an outcome, the further remedy the profile names. The action's effect is suspended where the
    /// profile gives the remedy suspensive effect.
    public func appeal(_ id: UUID, lodgedOn: String, grounds: String, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await step(id, .appeal(lodgedOn: lodgedOn, grounds: grounds), expectedVersion: expectedVersion, actor: actor,
                       auditAction: "licensing_action.appeal")
    }

    /// The outcome of the appeal's current stage: upheld (the action takes effect again), varied (it does with the
    /// new terms) or overturned (it never does).
    public func decideAppeal(_ id: UUID, outcome: AppealOutcome, on day: String, reason: String, terms: VariedTerms? = nil, notifiedOn: String? = nil,
                             expectedVersion: Int, actor: Actor) async throws -> Record {
        try await step(id, .appealOutcome(outcome, decidedOn: day, reason: reason, terms: terms, notifiedOn: notifiedOn), expectedVersion: expectedVersion,
                       actor: actor, auditAction: "licensing_action.appeal_\(outcome.rawValue)")
    }

    /// An order suspending the decision until the pending appeal stage is decided.
    public func interimRelief(_ id: UUID, orderedOn: String, orderedBy: String, reason: String, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await step(id, .interimRelief(orderedOn: orderedOn, orderedBy: orderedBy, reason: reason), expectedVersion: expectedVersion, actor: actor,
                       auditAction: "licensing_action.interim_relief")
    }

    /// What the competent authority did with a referred case.
    public func concludeReferral(_ id: UUID, outcome: ReferralOutcome, on day: String, note: String, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await step(id, .concludeReferral(outcome, on: day, note: note), expectedVersion: expectedVersion, actor: actor,
                       auditAction: "licensing_action.referral_concluded")
    }

    /// Lifts a decided or upheld action before its time (conditions met, a review).
    public func lift(_ id: UUID, on day: String?, reason: String, expectedVersion: Int, actor: Actor) async throws -> Record {
        try await step(id, .lift(on: day, reason: reason), expectedVersion: expectedVersion, actor: actor, auditAction: "licensing_action.lift")
    }

    /// The case a step reads, loaded and locked in one statement: the action's terms, its
    /// decision letter's date and delivery, the appeal stages so far, and the profile's next stage.
    func loadStepCase(_ id: UUID, on conn: PostgresConnection) async throws -> (version: Int, c: LicensingStepCase, stage: AppealStages.Stage?, profile: ProcedureProfile) {
        for try await r in try await conn.query(
            """
            SELECT a.status, a.version, a.proposed_by, a.proposed_by_label, a.decided_by, a.decided_by_label, a.decided_on::text,
                   coalesce(n.letter_date, a.decided_on)::text,
                   (SELECT min(e.occurred_on) FROM letter_events e WHERE e.letter_id = n.id AND e.status IN ('delivered', 'responded'))::text,
                   g.appeal_days, current_date::text, a.type, a.agency_id, a.appeal_suspends,
                   coalesce((SELECT json_agg(json_build_object('remedy', p.remedy, 'lodged_on', p.lodged_on, 'outcome_on', p.outcome_on,
                                                               'relief_ordered_on', p.relief_ordered_on) ORDER BY p.stage)
                             FROM licensing_appeals p WHERE p.action_id = a.id), '[]'::json)::text,
                   (SELECT coalesce(p.outcome_notified_on, p.outcome_on)::text FROM licensing_appeals p WHERE p.action_id = a.id ORDER BY p.stage DESC LIMIT 1),
                   a.legal_basis, a.rationale, a.conditions, a.amount_minor, a.currency, a.effective_from::text, a.effective_to::text, a.facilitator_id
            FROM licensing_actions a JOIN agencies g ON g.id = a.agency_id
            LEFT JOIN LATERAL (SELECT l.id, l.letter_date FROM letters l WHERE l.licensing_action_id = a.id
                                 AND l.kind IN ('decision_notice', 'warning') AND l.letter_date IS NOT NULL
                               ORDER BY l.created_at DESC LIMIT 1) n ON true
            WHERE a.id = \(id) AND (current_agency() IS NULL OR a.agency_id = current_agency())
            FOR UPDATE OF a
            """, logger: db.logger).decode((String, Int, UUID?, String, UUID?, String?, String?, String?, String?, Int, String, String, UUID, Bool,
                                            String, String?, String, String, String?, Int64?, String?, String?, String?, UUID).self) {
            let type = LicensingActionType(rawValue: r.11)!
            let profile = try await ProcedureProfileStore(db).current(r.12, on: conn).profile
            let appeals = try JSONDecoder().decode([AppealRecord].self, from: Data(r.14.utf8))
            let stage = AppealStages.next(type: type, profile: profile, fallbackDays: r.9, after: appeals)
            let period = stage?.period ?? AppealPeriod.of(type, profile: profile, fallbackDays: r.9)
            // The first stage runs from the decision letter (its delivery or date); a later one from the last outcome.
            let from = appeals.isEmpty ? (period.starts == .delivery ? r.8 : r.7) : r.15
            let draft = LicensingActionDraft(facilitatorID: r.23.uuidString.lowercased(), type: type, legalBasis: r.16, rationale: r.17, conditions: r.18,
                                             amountMinor: r.19, currency: r.20, effectiveFrom: r.21, effectiveTo: r.22)
            return (r.1, LicensingStepCase(
                type: type, status: LicensingActionStatus(rawValue: r.0)!,
                proposer: FourEyes.Person(userID: r.2?.uuidString.lowercased(), label: r.3),
                decider: r.5.map { FourEyes.Person(userID: r.4?.uuidString.lowercased(), label: $0) },
                decidedOn: r.6, appealFrom: from, appealPeriod: period, appeals: appeals, nextStage: stage, appealSuspends: r.13, draft: draft,
                today: r.10), stage, profile)
        }
        throw StoreError.notFound(entity: "licensing action", id: id.uuidString.lowercased())
    }

    /// One step after the proposal, as one use case: the case loaded and locked in
    /// one statement, Core's `LicensingStepDecision`, then the step saved with its
    /// event and audit event.
    func step(_ id: UUID, _ step: LicensingStep, expectedVersion: Int, actor: Actor, auditAction: String) async throws -> Record {
        try await db.transaction { conn in
            let loaded = try await loadStepCase(id, on: conn)
            let checked = LicensingStepDecision.check(loaded.c, step, by: actor.person)
            // Invalid input is refused (422) before the version is compared.
            if case .failure(.invalid(let problems)) = checked { throw StoreError.invalid(problems) }
            guard loaded.version == expectedVersion else { throw StoreError.versionConflict(current: loaded.version) }
            let outcome: LicensingStepDecision.Outcome
            switch checked {
            case .success(let checked): outcome = checked
            case .failure(.transition(let from, _)):
                throw StoreError.transition(entity: "licensing action", from: from.rawValue, to: step.next.rawValue,
                                            allowed: from.allowedNext(for: loaded.c.type).map(\.rawValue))
            case .failure(.fourEyes(let refusal)): throw StoreError.forbidden(refusal)
            case .failure(.invalid(let problems)): throw StoreError.invalid(problems)
            }
            let before = try await document(id, on: conn)
            let stage = loaded.c.appeals.count
            let note: String?
            switch step {
            case .withdraw(let reason), .lift(_, let reason):
                try await conn.query("UPDATE licensing_actions SET ended_on = \(outcome.day)::date, end_reason = \(reason) WHERE id = \(id)",
                                     logger: db.logger)
                note = reason
            case .appeal(let lodgedOn, let grounds):
                let next = loaded.stage!
                let name = next.remedy.flatMap { loaded.profile.remedies[$0]?.name["en"] }
                try await conn.query(
                    """
                    INSERT INTO licensing_appeals (action_id, stage, remedy, remedy_name, period_judged_by_agency, lodged_on, period_ended_on, grounds,
                                                   recorded_by, recorded_by_label)
                    VALUES (\(id), \(next.number), \(next.remedy), \(name ?? next.period.name), \(next.judgedByAgency), \(lodgedOn)::date,
                            \(loaded.c.appealEndsOn)::date, \(grounds), \(actor.userID.flatMap(UUID.init(uuidString:))), \(actor.label))
                    """, logger: db.logger)
                // The profile's suspensive effect for the type, recorded at the decision, says which.
                note = "\(name ?? next.period.name) (stage \(next.number)) lodged on \(lodgedOn); "
                    + (loaded.c.appealSuspends ? "effect suspended" : "the decision stays in effect (no suspensive effect)")
            case .appealOutcome(let result, let decidedOn, let reason, _, let notifiedOn):
                var previous: String?
                var varied: String?
                if let terms = outcome.varied, let old = loaded.c.draft {
                    previous = try Self.terms(old)
                    varied = try Self.terms(terms)
                    try await conn.query(
                        """
                        UPDATE licensing_actions SET amount_minor = \(terms.amountMinor), conditions = \(terms.conditions),
                            effective_from = \(terms.effectiveFrom)::date, effective_to = \(terms.effectiveTo)::date WHERE id = \(id)
                        """, logger: db.logger)
                }
                try await conn.query(
                    """
                    UPDATE licensing_appeals SET outcome = \(result.rawValue), outcome_on = \(decidedOn)::date, outcome_reason = \(reason),
                        outcome_notified_on = \(notifiedOn)::date, previous_terms = \(previous)::jsonb, varied_terms = \(varied)::jsonb,
                        outcome_recorded_by_label = \(actor.label) WHERE action_id = \(id) AND stage = \(stage)
                    """, logger: db.logger)
                // Final once the next remedy's period has run, or at once when the profile names none.
                if result != .overturned {
                    var after = loaded.c
                    after.appeals[after.appeals.count - 1].outcomeOn = decidedOn
                    let further = AppealStages.next(type: after.type, profile: loaded.profile, fallbackDays: 0, after: after.appeals)
                    var endsOn: String?
                    if let further {
                        let start = further.period.starts == .delivery ? notifiedOn : decidedOn
                        guard let start else {
                            throw StoreError.invalid([FieldError(field: "notified_on", message: "is required: the \(further.period.name) against this "
                                                                 + "outcome runs from its notification; give the day it reached the supplier")])
                        }
                        endsOn = ProcedureCalendar.end(of: further.period.period, from: start, further.period.rule)
                    }
                    try await conn.query("UPDATE licensing_actions SET appeal_ends_on = \(endsOn)::date WHERE id = \(id)", logger: db.logger)
                }
                note = reason
            case .interimRelief(let orderedOn, let orderedBy, let reason):
                try await conn.query(
                    """
                    UPDATE licensing_appeals SET relief_ordered_on = \(orderedOn)::date, relief_ordered_by = \(orderedBy.trimmingWhitespace),
                        relief_reason = \(reason), relief_recorded_by_label = \(actor.label) WHERE action_id = \(id) AND stage = \(stage)
                    """, logger: db.logger)
                note = "interim relief ordered by \(orderedBy.trimmingWhitespace) on \(orderedOn): effect suspended until the appeal is decided"
            case .concludeReferral(let result, let on, let text):
                try await conn.query(
                    """
                    UPDATE licensing_actions SET referral_outcome = \(result.rawValue), referral_outcome_on = \(on)::date,
                        referral_outcome_note = \(text) WHERE id = \(id)
                    """, logger: db.logger)
                note = "\(result.rawValue): \(text)"
            }
            try await conn.query(
                "UPDATE licensing_actions SET status = \(outcome.next.rawValue), updated_at = now(), version = version + 1 WHERE id = \(id)",
                logger: db.logger)
            try await addEvent(id, status: outcome.next, on: outcome.day, note: note, actor: actor, on: conn)
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: auditAction, entityType: "licensing_action",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    /// An action's terms as JSON (what an appeal's outcome varied from and to).
    static func terms(_ d: LicensingActionDraft) throws -> String {
        String(decoding: try JSONEncoder().encode(VariedTerms(amountMinor: d.amountMinor, effectiveFrom: d.effectiveFrom, effectiveTo: d.effectiveTo,
                                                              conditions: d.conditions)), as: UTF8.self)
    }

    /// Marks `expired` every final action whose end date passed before `today`. Returns their ids.
    @discardableResult
    public func sweepExpired(today: String? = nil, actor: Actor = Actor(userID: nil, agencyID: nil, label: "system:licensing-sweep")) async throws -> [UUID] {
        var all: [UUID] = []
        try await db.forEachAgency { _ in all += try await sweepExpiredOfAgency(today: today, actor: actor) }
        return all
    }

    func sweepExpiredOfAgency(today: String?, actor: Actor) async throws -> [UUID] {
        try await db.transaction { conn in
            var day = today ?? ""
            if today == nil { day = try await LetterStore.today(on: conn, logger: db.logger) }
            let rows = try await conn.query(
                """
                UPDATE licensing_actions SET status = 'expired', ended_on = effective_to, end_reason = 'its end date passed',
                    updated_at = now(), version = version + 1
                WHERE id IN (SELECT id FROM licensing_actions WHERE agency_id = current_agency() AND status = ANY(\(LicensingActionStatus.finalStatuses))
                             AND effective_to < \(day)::date
                             ORDER BY id FOR UPDATE SKIP LOCKED)
                RETURNING id, effective_to::text
                """, logger: db.logger)
            var expired: [(UUID, String)] = []
            for try await row in rows.decode((UUID, String).self) { expired.append(row) }
            for (id, end) in expired {
                try await addEvent(id, status: .expired, on: end, note: "its end date passed", actor: actor, on: conn)
            }
            if !expired.isEmpty {
                let list = expired.map { "\"\($0.0.uuidString.lowercased())\"" }.joined(separator: ",")
                try await AuditLog.append(on: conn, actor: actor, action: "licensing_action.expire", entityType: "licensing_action",
                                          entityID: nil, before: nil, after: "{\"day\": \"\(day)\", \"ids\": [\(list)]}", logger: db.logger)
            }
            return expired.map(\.0)
        }
    }

    // MARK: Public register

    public static let registerColumns = [
        "id", "decided_on", "authority", "supplier_name", "supplier_country", "supplier_registration_number", "type", "status",
        "legal_basis", "conditions", "amount", "currency", "effective_from", "effective_to", "appeal_outcome", "appeal_decided_on",
        "supplier_name_withheld",
    ]

    /// Restrictive actions that are final, newest decision first, as rows of `registerColumns`.
    public func publicRegister() async throws -> [[String: String?]] {
        let rows = try await db.query(
            """
            SELECT id::text, decided_on::text, authority, supplier_name, supplier_country, supplier_registration_number, type, status,
                   legal_basis, conditions, amount_minor, currency, effective_from::text, effective_to::text, appeal_outcome,
                   appeal_decided_on::text, supplier_name_withheld::text
            FROM public_register ORDER BY decided_on DESC, supplier_name, id
            """)
        var items: [[String: String?]] = []
        for try await r in rows.decode((String, String, String, String, String, String?, String, String, String, String?, Int64?, String?,
                                        String?, String?, String?, String?, String).self) {
            let values: [String?] = [r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10.map { Self.decimal($0, currency: r.11 ?? "") },
                                     r.11, r.12, r.13, r.14, r.15, r.16]
            items.append(Dictionary(uniqueKeysWithValues: zip(Self.registerColumns, values)))
        }
        return items
    }

    public func publicRegisterCSV() async throws -> Data {
        let items = try await publicRegister()
        return try FacilitatorTransfer.csvLines([Self.registerColumns] + items.map { item in Self.registerColumns.map { (item[$0] ?? nil) ?? "" } })
    }

    /// Minor units as a plain decimal (`2500000` EUR → `25000.00`; JPY has no decimals).
    static func decimal(_ minor: Int64, currency: String) -> String {
        let zeroDecimals: Set<String> = ["JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF", "XPF", "PYG", "UGX", "RWF", "KMF", "GNF", "DJF", "BIF", "VUV"]
        let threeDecimals: Set<String> = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
        let places = zeroDecimals.contains(currency) ? 0 : threeDecimals.contains(currency) ? 3 : 2
        guard places > 0 else { return String(minor) }
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let fraction = String(minor % scale)
        return "\(minor / scale)." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    // MARK: Pieces

    struct Locked {
        var id: UUID
        var facilitatorID: UUID
        var agencyID: UUID
        var type: LicensingActionType
        var status: LicensingActionStatus
        var version: Int
        var proposedBy: UUID?
        var proposedByLabel: String
        var decidedOn: String?
        var decidedBy: UUID?
        var decidedByLabel: String?
        var draft: LicensingActionDraft

        var proposer: FourEyes.Person { FourEyes.Person(userID: proposedBy?.uuidString.lowercased(), label: proposedByLabel) }
        var decider: FourEyes.Person? {
            decidedByLabel.map { FourEyes.Person(userID: decidedBy?.uuidString.lowercased(), label: $0) }
        }
    }

    func lock(_ id: UUID, forUpdate: Bool = true, on conn: PostgresConnection) async throws -> Locked {
        let rows = try await conn.query(
            PostgresQuery(unsafeSQL: """
                SELECT facilitator_id, agency_id, type, status, version, proposed_by, proposed_by_label, decided_on::text, legal_basis,
                       rationale, conditions, amount_minor, currency, effective_from::text, effective_to::text, ladder_justification,
                       decided_by, decided_by_label
                FROM licensing_actions WHERE id = $1 AND (current_agency() IS NULL OR agency_id = current_agency())\(forUpdate ? " FOR UPDATE" : "")
                """, binds: { var b = PostgresBindings(); b.append(id); return b }()), logger: db.logger)
        for try await r in rows.decode((UUID, UUID, String, String, Int, UUID?, String, String?, String, String, String?, Int64?, String?,
                                        String?, String?, String?, UUID?, String?).self) {
            let type = LicensingActionType(rawValue: r.2)!
            return Locked(
                id: id, facilitatorID: r.0, agencyID: r.1, type: type, status: LicensingActionStatus(rawValue: r.3)!, version: r.4, proposedBy: r.5,
                proposedByLabel: r.6, decidedOn: r.7, decidedBy: r.16, decidedByLabel: r.17,
                draft: LicensingActionDraft(facilitatorID: r.0.uuidString.lowercased(), type: type, legalBasis: r.8, rationale: r.9,
                                            conditions: r.10, amountMinor: r.11, currency: r.12, effectiveFrom: r.13, effectiveTo: r.14,
                                            ladderJustification: r.15))
        }
        throw StoreError.notFound(entity: "licensing action", id: id.uuidString.lowercased())
    }

    /// One step of an action: lock, check version and transition, run `body`
    /// (which returns the event's note), move the status, record the event and audit.
    func change(_ id: UUID, to next: LicensingActionStatus?, expectedVersion: Int, actor: Actor, auditAction: String, day: String? = nil,
                _ body: (PostgresConnection, Locked, String) async throws -> String?) async throws -> Record {
        try await db.transaction { conn in
            let action = try await lock(id, on: conn)
            guard action.version == expectedVersion else { throw StoreError.versionConflict(current: action.version) }
            if let next, !action.status.canMove(to: next) {
                throw StoreError.transition(entity: "licensing action", from: action.status.rawValue, to: next.rawValue,
                                            allowed: action.status.allowedNext.map(\.rawValue))
            }
            let today = try await LetterStore.today(on: conn, logger: db.logger)
            let before = try await document(id, on: conn)
            let note = try await body(conn, action, today)
            try await conn.query(
                """
                UPDATE licensing_actions SET status = \(next?.rawValue ?? action.status.rawValue), updated_at = now(), version = version + 1
                WHERE id = \(id)
                """, logger: db.logger)
            if let next { try await addEvent(id, status: next, on: day ?? today, note: note, actor: actor, on: conn) }
            let after = try await document(id, on: conn)
            try await AuditLog.append(on: conn, actor: actor, action: auditAction, entityType: "licensing_action",
                                      entityID: id.uuidString.lowercased(), before: before.json, after: after.json, logger: db.logger)
            return after
        }
    }

    /// The case a decision reads, in one statement: the agency's record of the
    /// supplier (for the ladder), the agency's own notices that reached it, the
    /// observed day of each linked signal's current version, and the latest notice of intent.
    func loadCase(_ action: Locked, today: String, profile: ProcedureProfile, on conn: PostgresConnection) async throws -> LicensingCase {
        let counted = LicensingActionStatus.onRecordStatuses
        let since = ProportionalityLadder.recordSince(today: today, years: profile.recordYears)
        let rows = try await conn.query(
            """
            SELECT
                ARRAY(SELECT a.type FROM licensing_actions a
                      WHERE a.agency_id = \(action.agencyID) AND a.facilitator_id = \(action.facilitatorID) AND a.status = ANY(\(counted))
                        AND a.id <> \(action.id) AND a.decided_on >= coalesce(\(since)::date, '-infinity'::date) ORDER BY a.decided_on, a.id),
                ARRAY(SELECT coalesce(l.reference, '') || ' ' || coalesce(coalesce(l.delivered_on, l.responded_on)::text, '') FROM letters l
                      WHERE l.agency_id = \(action.agencyID) AND l.facilitator_id = \(action.facilitatorID) AND l.status <> 'draft'
                        AND l.kind IN ('inform_call_to_action', 'reminder', 'warning') ORDER BY l.created_at, l.id),
                ARRAY(SELECT s.signal_id::text || ' ' || coalesce((SELECT v.observed_on::text || ' ' || (v.version > coalesce(
                                          (SELECT max(e.version) FROM licensing_evidence_versions e
                                           WHERE e.action_id = s.action_id AND e.signal_id = s.signal_id), v.version))::text
                                       FROM signal_versions v WHERE v.signal_id = s.signal_id ORDER BY v.version DESC LIMIT 1), '')
                      FROM licensing_action_signals s WHERE s.action_id = \(action.id) ORDER BY s.signal_id),
                n.reference, n.reached, n.deadline, n.responded, n.id IS NOT NULL,
                (SELECT c.level FROM cooperation_levels c WHERE c.agency_id = \(action.agencyID) AND c.facilitator_id = \(action.facilitatorID)),
                (SELECT count(*)::int FROM measure_commitments m
                 WHERE m.agency_id = \(action.agencyID) AND m.facilitator_id = \(action.facilitatorID) AND m.status = 'verified'),
                x.consideration, x.cooperation_reason
            FROM licensing_actions x LEFT JOIN LATERAL (
                SELECT id, reference, coalesce(delivered_on, responded_on)::text AS reached, response_deadline::text AS deadline,
                       responded_on::text AS responded
                FROM letters WHERE licensing_action_id = \(action.id) AND kind = 'notice_of_intent' ORDER BY created_at DESC, id LIMIT 1) n ON true
            WHERE x.id = \(action.id)
            """, logger: db.logger)
        let powers = Set(profile.competentTypes)
        for try await r in rows.decode(([String], [String], [String], String?, String?, String?, String?, Bool, String?, Int, String?, String?).self) {
            let notices = r.1.map { line -> DueProcessNotice in
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                return DueProcessNotice(reference: parts[0], reachedOn: parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil)
            }
            // The latest notice of intent: one that was answered did arrive.
            let intent: NoticeOfIntent? = !r.7 ? nil
                : NoticeOfIntent(reference: r.3 ?? "(a draft, not yet approved)", deliveredOn: r.4, responseDeadline: r.5 ?? "", respondedOn: r.6)
            let evidence = r.2.compactMap { line -> LinkedEvidence? in
                let parts = line.split(separator: " ").map(String.init)
                guard parts.count == 3 else { return nil }
                return LinkedEvidence(signalID: parts[0], observedOn: parts[1], changedSinceLinked: parts[2] == "true")
            }
            return LicensingCase(
                draft: action.draft, status: action.status, proposer: action.proposer,
                record: r.0.compactMap(LicensingActionType.init(rawValue:)), notices: notices, evidence: evidence, noticeOfIntent: intent,
                standing: SupplierStanding(level: r.8.flatMap(CooperationLevel.init(rawValue:)), verifiedMeasures: r.9),
                reasons: DecisionReasons(consideration: r.10, cooperationReason: r.11), powers: powers, referralBody: profile.referral?.body,
                today: today)
        }
        throw StoreError.notFound(entity: "licensing action", id: action.id.uuidString.lowercased())
    }

    struct NoticeLetter {
        var reference: String?
        var status: String
        var reachedOn: String?
        var deadline: String?
        var respondedOn: String?
    }

    /// The action's most recent notice of intent; a response proves it arrived.
    func latestNotice(_ actionID: UUID, on conn: PostgresConnection) async throws -> NoticeLetter? {
        let rows = try await conn.query(
            """
            SELECT reference, status, coalesce(delivered_on, responded_on)::text, response_deadline::text, responded_on::text
            FROM letters WHERE licensing_action_id = \(actionID) AND kind = 'notice_of_intent'
            ORDER BY created_at DESC, id LIMIT 1
            """, logger: db.logger)
        for try await r in rows.decode((String?, String, String?, String?, String?).self) {
            return NoticeLetter(reference: r.0, status: r.1, reachedOn: r.2, deadline: r.3, respondedOn: r.4)
        }
        return nil
    }

    struct RecordEntry {
        var id: UUID
        var type: LicensingActionType
        var status: String
        var decidedOn: String
    }

    /// The supplier's decided actions that stand (the ladder's input), oldest first.
    /// The actions on the supplier's record with `agency` (nil: the task's agency).
    static func record(of facilitatorID: UUID, agency: UUID?, excluding: UUID?, since: String?, on conn: PostgresConnection,
                       logger: Logger) async throws -> [RecordEntry] {
        let counted = LicensingActionStatus.onRecordStatuses
        let rows = try await conn.query(
            """
            SELECT id, type, status, decided_on::text FROM licensing_actions
            WHERE agency_id = coalesce(\(agency), current_agency()) AND facilitator_id = \(facilitatorID) AND status = ANY(\(counted))
              AND id IS DISTINCT FROM \(excluding) AND decided_on >= coalesce(\(since)::date, '-infinity'::date)
            ORDER BY decided_on, id
            """, logger: logger)
        var entries: [RecordEntry] = []
        for try await (id, type, status, decided) in rows.decode((UUID, String, String, String).self) {
            entries.append(RecordEntry(id: id, type: LicensingActionType(rawValue: type)!, status: status, decidedOn: decided))
        }
        return entries
    }

    func supplierStatus(_ id: UUID, on conn: PostgresConnection) async throws -> String? {
        for try await status in try await conn.query("SELECT status FROM facilitators WHERE id = \(id)", logger: db.logger).decode(String.self) {
            return status
        }
        return nil
    }

    /// The signals named, as the agency sees them (its own and those shared with
    /// it), each with whether it concerns the supplier; and the ids to link.
    func namedSignals(_ raw: [String], facilitatorID: UUID?, on conn: PostgresConnection) async throws -> ([NamedSignal], [UUID]) {
        let ids = raw.compactMap(UUID.init(uuidString:))
        var concerning: [UUID: Bool] = [:]
        if !ids.isEmpty {
            for try await (id, concerns) in try await conn.query(
                """
                SELECT s.id, \(facilitatorID)::uuid IS NULL
                    OR EXISTS (SELECT 1 FROM signal_facilitators f WHERE f.signal_id = s.id AND f.facilitator_id = \(facilitatorID))
                FROM signals s WHERE s.id = ANY(\(ids)::uuid[])
                """, logger: db.logger).decode((UUID, Bool).self) {
                concerning[id] = concerns
            }
        }
        let named: [NamedSignal] = raw.map { text in
            guard let id = UUID(uuidString: text) else { return .malformed(text) }
            guard let concerns = concerning[id] else { return .unknown(id.uuidString.lowercased()) }
            return .seen(id.uuidString.lowercased(), concernsSupplier: concerns)
        }
        return (named, ids)
    }

    func link(_ id: UUID, signals: [UUID], actor: Actor, on conn: PostgresConnection) async throws {
        guard !signals.isEmpty else { return }
        try await conn.query(
            """
            INSERT INTO licensing_action_signals (action_id, signal_id, linked_by_label)
            SELECT \(id), unnest(\(signals)::uuid[]), \(actor.label) ON CONFLICT DO NOTHING
            """, logger: db.logger)
        // The version relied on: the current one. Linking a signal again confirms its current version.
        try await conn.query(
            """
            INSERT INTO licensing_evidence_versions (action_id, signal_id, version, confirmed_by_label)
            SELECT \(id), v.signal_id, max(v.version), \(actor.label) FROM signal_versions v
            WHERE v.signal_id = ANY(\(signals)::uuid[]) GROUP BY v.signal_id ON CONFLICT DO NOTHING
            """, logger: db.logger)
    }

    func addEvent(_ id: UUID, status: LicensingActionStatus, on day: String, note: String?, actor: Actor, on conn: PostgresConnection) async throws {
        try await conn.query(
            """
            INSERT INTO licensing_action_events (action_id, seq, status, occurred_on, recorded_by, recorded_by_label, note)
            SELECT \(id), coalesce(max(seq), 0) + 1, \(status.rawValue), \(day)::date, \(actor.userID.flatMap(UUID.init(uuidString:))),
                   \(actor.label), \(note)
            FROM licensing_action_events WHERE action_id = \(id)
            """, logger: db.logger)
    }

    func document(_ id: UUID, on conn: PostgresConnection) async throws -> Record {
        let rows = try await conn.query("SELECT document::text, version FROM licensing_action_documents WHERE id = \(id)", logger: db.logger)
        for try await (json, version) in rows.decode((String, Int).self) { return Record(id: id, json: json, version: version) }
        throw StoreError.notFound(entity: "licensing action", id: id.uuidString.lowercased())
    }

    func appealDays(_ agencyID: UUID, on conn: PostgresConnection) async throws -> Int {
        for try await days in try await conn.query("SELECT appeal_days FROM agencies WHERE id = \(agencyID)", logger: db.logger).decode(Int.self) {
            return days
        }
        throw StoreError.notFound(entity: "agency", id: agencyID.uuidString.lowercased())
    }

}
