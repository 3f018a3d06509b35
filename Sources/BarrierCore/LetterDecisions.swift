/// The deadline a letter written today gives: the day asked for, or the
/// response period counted from today, moved to a working day as the agency's
/// procedure profile says; always after today.
public struct LetterDeadline: Sendable, Equatable {
    public var day: String
    /// Calendar days from today to `day`: what the letter calls its period.
    public var days: Int

    /// With a profile's `rule`, a deadline that falls on a rest day or public holiday moves to the next working day.
    public static func resolve(today: String, requested: String?, responseDays: Int,
                               rule: ProcedureProfile.DeadlineRule? = nil) -> Result<LetterDeadline, FieldError> {
        guard let counted = requested ?? ISODay.adding(responseDays, to: today), ISODay.isValid(counted) else {
            return .failure(FieldError(field: "deadline", message: "must be a day written YYYY-MM-DD"))
        }
        let deadline = rule.map { ProcedureCalendar.deadline(counted, $0) } ?? counted
        guard let days = ISODay.days(from: today, to: deadline) else {
            return .failure(FieldError(field: "deadline", message: "must be a day written YYYY-MM-DD"))
        }
        guard days > 0 else {
            return .failure(FieldError(field: "deadline", message: "\(deadline) is not after today (\(today)); set a later deadline"))
        }
        return .success(LetterDeadline(day: deadline, days: days))
    }
}

/// What drafting a letter reads, in one statement: the supplier as registered,
/// the earlier letter a reminder names, the templates the agency may write
/// from (its own and the shipped ones), its default period, and today.
public struct LetterDraftCase: Sendable, Equatable {
    public struct Supplier: Sendable, Equatable {
        public var archived: Bool
        public var hasPostalAddress: Bool
        public var country: String
        public var sector: String
        /// The first-contact letter its sector gets (the sectors catalogue's `letter_group`).
        public var group: SectorGroup

        public init(archived: Bool, hasPostalAddress: Bool, country: String, sector: String, group: SectorGroup = .general) {
            self.archived = archived; self.hasPostalAddress = hasPostalAddress; self.country = country; self.sector = sector
            self.group = group
        }
    }

    /// The letter a reminder names, as the agency sees it.
    public struct Original: Sendable, Equatable {
        public var isTheSuppliers: Bool
        public var status: LetterStatus

        public init(isTheSuppliers: Bool, status: LetterStatus) { self.isTheSuppliers = isTheSuppliers; self.status = status }
    }

    /// Nil: no registered supplier with the id.
    public var supplier: Supplier?
    /// Nil: no letter was named, or none of the agency's has the id.
    public var original: Original?
    public var templates: Set<TemplateKey>
    public var agencyResponseDays: Int
    public var today: String

    public init(supplier: Supplier?, original: Original?, templates: Set<TemplateKey>, agencyResponseDays: Int, today: String) {
        self.supplier = supplier; self.original = original; self.templates = templates
        self.agencyResponseDays = agencyResponseDays; self.today = today
    }
}

/// What is asked: by an officer (a first contact or a reminder) or by a
/// licensing action's step (its warning, notice of intent or decision notice).
public struct LetterDraftAsk: Sendable, Equatable {
    public enum Origin: Sendable, Equatable { case officer, licensingAction }

    public var origin: Origin
    public var kind: LetterKind
    public var language: LetterLanguage?
    public var responseDays: Int?
    public var deadline: String?
    /// A reminder names the letter it follows up.
    public var namesOriginal: Bool

    public init(origin: Origin, kind: LetterKind, language: LetterLanguage? = nil, responseDays: Int? = nil, deadline: String? = nil,
                namesOriginal: Bool = false) {
        self.origin = origin; self.kind = kind; self.language = language; self.responseDays = responseDays
        self.deadline = deadline; self.namesOriginal = namesOriginal
    }
}

/// Drafting a letter as one pure decision: which kinds an officer writes, the
/// period or deadline, a supplier that can be written to (registered, not
/// archived, with a postal address), a reminder's earlier letter, the language
/// (asked, or the supplier's country's) and a template for it.
public enum LetterDrafting {
    /// Kinds an officer drafts directly; the others are written from a licensing action.
    public static let officerKinds: Set<LetterKind> = [.informCallToAction, .reminder]
    /// Letters a reminder may follow up.
    public static let remindable: Set<LetterStatus> = [.sent, .delivered, .noResponse]

    public enum Refusal: Error, Sendable, Equatable {
        /// A licensing action's supplier is gone (never for an officer's draft, which names the supplier as a field).
        case noSupplier
        case invalid([FieldError])
    }

    public struct Outcome: Sendable, Equatable {
        public var language: LetterLanguage
        public var template: TemplateKey
        public var responseDays: Int
        public var deadline: String?
    }

    public static func decide(_ c: LetterDraftCase, _ ask: LetterDraftAsk) -> Result<Outcome, Refusal> {
        var errors = FieldErrors()
        if ask.origin == .licensingAction, c.supplier == nil { return .failure(.noSupplier) }
        if ask.origin == .officer {
            if !officerKinds.contains(ask.kind) { errors.add("kind", "letters of kind \(ask.kind.rawValue) are written from a licensing action") }
            if let days = ask.responseDays, !ResponsePeriod.allowedDays.contains(days) { errors.add("response_days", "must be between 1 and 365") }
            if let deadline = ask.deadline {
                if !ISODay.isValid(deadline) { errors.add("deadline", "must be a day written YYYY-MM-DD") }
                else if deadline <= c.today { errors.add("deadline", "must be after today (\(c.today))") }
            }
            if c.supplier?.archived == true { errors.add("facilitator_id", "the supplier is archived") }
        }
        if let supplier = c.supplier, !supplier.hasPostalAddress {
            errors.add("facilitator_id", "the supplier has no postal address (street and city); add it before writing to them")
        }
        if c.supplier == nil { errors.add("facilitator_id", "no supplier with this id") }
        if ask.origin == .officer {
            if ask.kind == .reminder {
                if !ask.namesOriginal { errors.add("reminder_of", "is required for a reminder") }
                else if let original = c.original {
                    if !original.isTheSuppliers { errors.add("reminder_of", "is a letter to another supplier") }
                    if !remindable.contains(original.status) {
                        errors.add("reminder_of", "is \(original.status.rawValue); only a sent, delivered or unanswered letter can be reminded")
                    }
                } else {
                    errors.add("reminder_of", "no letter with this id")
                }
            } else if ask.namesOriginal {
                errors.add("reminder_of", "only a reminder refers to an earlier letter")
            }
        }
        let language = ask.language ?? LetterLanguage.forCountry(c.supplier?.country ?? "")
        let key = TemplateKey(kind: ask.kind, group: c.supplier?.group ?? .general, language: language)
        if errors.isEmpty && !c.templates.contains(key) {
            errors.add(ask.origin == .officer ? "kind" : "language", "there is no template \(key)")
        }
        if !errors.isEmpty { return .failure(.invalid(errors.errors)) }
        return .success(Outcome(language: language, template: key, responseDays: ask.responseDays ?? c.agencyResponseDays,
                                deadline: ask.deadline))
    }
}

/// What approving a draft reads: the letter, whether its licensing action was
/// withdrawn meanwhile, its period or asked deadline, and today.
public struct LetterApprovalCase: Sendable, Equatable {
    public var status: LetterStatus
    public var version: Int
    public var actionWithdrawn: Bool
    public var requestedDeadline: String?
    public var responseDays: Int
    public var today: String

    public init(status: LetterStatus, version: Int, actionWithdrawn: Bool, requestedDeadline: String?, responseDays: Int, today: String) {
        self.status = status; self.version = version; self.actionWithdrawn = actionWithdrawn
        self.requestedDeadline = requestedDeadline; self.responseDays = responseDays; self.today = today
    }
}

/// Approving a draft as one pure decision: the version, a draft, a licensing
/// action that still stands, and a deadline after today. The outcome is the
/// deadline the letter states.
public enum LetterApproval {
    public enum Refusal: Error, Sendable, Equatable {
        case versionConflict(current: Int)
        case transition(from: LetterStatus, allowed: [LetterStatus])
        case actionWithdrawn
        case invalid([FieldError])
    }

    public static func decide(_ c: LetterApprovalCase, expectedVersion: Int) -> Result<LetterDeadline, Refusal> {
        guard c.version == expectedVersion else { return .failure(.versionConflict(current: c.version)) }
        guard c.status == .draft else { return .failure(.transition(from: c.status, allowed: c.status.allowedNext)) }
        if c.actionWithdrawn { return .failure(.actionWithdrawn) }
        return LetterDeadline.resolve(today: c.today, requested: c.requestedDeadline, responseDays: c.responseDays).mapError { .invalid([$0]) }
    }
}

/// What handing an approved letter to the e-mail relay reads.
public struct LetterEmailCase: Sendable, Equatable {
    public var status: LetterStatus
    public var version: Int
    /// The letter was handed to the relay before (in any state).
    public var queued: Bool
    public var relayConfigured: Bool
    /// The supplier's e-mail address as the approved letter states it.
    public var supplierEmail: String?
    /// The e-mail addresses of the supplier's contact points.
    public var contactEmails: [String]

    public init(status: LetterStatus, version: Int, queued: Bool, relayConfigured: Bool, supplierEmail: String?, contactEmails: [String] = []) {
        self.status = status; self.version = version; self.queued = queued
        self.relayConfigured = relayConfigured; self.supplierEmail = supplierEmail; self.contactEmails = contactEmails
    }

    /// Whether `address` is one the supplier gave (its own or a contact point's), compared without case.
    public func isSuppliers(_ address: String) -> Bool {
        let wanted = address.lowercased()
        return ([supplierEmail].compactMap { $0 } + contactEmails).contains { $0.lowercased() == wanted }
    }
}

/// Queueing a letter for the relay as one pure decision: a relay, a valid
/// address given or on record, the version, an approved letter, never twice.
/// An address given instead must be one of the supplier's (its own or a contact
/// point's) unless an admin confirms another: a letter about a licence must not
/// go to whoever an officer typed. The outcome is the address it goes to.
public enum LetterEmailing {
    public static let unknownAddress = "is not an address of the supplier (its e-mail or a contact point's); an admin may confirm another"

    public enum Refusal: Error, Sendable, Equatable {
        case noRelay
        case versionConflict(current: Int)
        case transition(from: LetterStatus, allowed: [LetterStatus])
        case alreadyQueued
        case invalid([FieldError])
    }

    public static func decide(_ c: LetterEmailCase, to recipient: String?, expectedVersion: Int,
                              otherAddressConfirmedByAdmin: Bool = false) -> Result<String, Refusal> {
        guard c.relayConfigured else { return .failure(.noRelay) }
        if let recipient, !FacilitatorDraft.isEmail(recipient) {
            return .failure(.invalid([FieldError(field: "to", message: "must be an e-mail address such as info@example.eu")]))
        }
        if let recipient, !c.isSuppliers(recipient), !otherAddressConfirmedByAdmin {
            return .failure(.invalid([FieldError(field: "to", message: unknownAddress)]))
        }
        guard c.version == expectedVersion else { return .failure(.versionConflict(current: c.version)) }
        guard c.status == .approved else { return .failure(.transition(from: c.status, allowed: c.status.allowedNext)) }
        if c.queued { return .failure(.alreadyQueued) }
        guard let to = recipient ?? c.supplierEmail, !to.isEmpty else {
            return .failure(.invalid([FieldError(field: "to", message: "the supplier has no e-mail address; give one")]))
        }
        return .success(to)
    }
}

/// Where a letter's e-mail stands with the relay (`letter_emails.state`).
public enum EmailState: String, CaseIterable, Sendable {
    case pending, sending, sent, failed, uncertain
}

/// An admin putting a letter's e-mail back in the relay's queue, as one pure
/// decision: `retry` a message the relay kept refusing (`failed`), or `release`
/// one whose outcome is unknown (`uncertain`: the sender stopped mid-hand-over)
/// after checking the relay's log that it did not go out. Only an admin may, and
/// only with a reason, since a released message may reach the supplier twice.
public enum EmailRequeue: String, CaseIterable, Sendable {
    case retry, release

    /// The one state each step starts from.
    public var from: EmailState { self == .retry ? .failed : .uncertain }

    public enum Refusal: Error, Sendable, Equatable {
        case notAdmin
        case notQueued
        case wrongState(current: EmailState, needed: EmailState)
        case invalid([FieldError])
    }

    public func refusal(state: EmailState?, reason: String, byAdmin: Bool) -> Refusal? {
        guard byAdmin else { return .notAdmin }
        var errors = FieldErrors()
        errors.text("reason", reason, max: 2000, missing: "is required: what was checked, and why the message may go (again)")
        if !errors.isEmpty { return .invalid(errors.errors) }
        guard let state else { return .notQueued }
        return state == from ? nil : .wrongState(current: state, needed: from)
    }
}
