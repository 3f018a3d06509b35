import BarrierCore
import BarrierStore
import Foundation
import Hummingbird

/// The procedure profile in the browser: everyone of the agency reads the law its
/// letters state (powers, remedies, periods, suspensive effect, publication, the
/// notices); an administrator stores a new version from the profile's JSON with a
/// reason, through the store use case the API calls (`ProcedureProfileStore.replace`).
/// A broken rule is listed by its path beside the text, and nothing is stored.
extension PageController {
    static func profileJSON(_ profile: ProcedureProfile) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(profile)) ?? Data(), as: UTF8.self)
    }

    func profilePage(session: PageSession, typed: String? = nil, reason: String = "", version: Int? = nil, errors: [FieldError] = [],
                     refusal: String? = nil, flash: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let current = try await profiles.current(session.identity.agencyID)
        let p = current.profile
        let en = { (text: LocalizedText) in text["en"] ?? text.values.sorted().first ?? "" }
        let powers = LicensingActionType.allCases.map { type -> [String: Any] in
            guard let rule = p.rule(for: type) else {
                return ["type": type.rawValue, "power": false, "none": pages.text(type.isRestrictive ? "profile.noPower" : "profile.noRule")]
            }
            var row: [String: Any] = ["type": type.rawValue, "power": true, "legalBasis": en(rule.legalBasis), "competence": en(rule.competence),
                                      "suspensive": pages.text(rule.suspensiveEffect ? "profile.suspends" : "profile.doesNotSuspend"),
                                      "source": rule.source]
            if let remedy = p.remedies[rule.remedy] {
                row["remedy"] = "\(en(remedy.name)) — \(remedy.body), \(remedy.address)"
                row["period"] = "\(remedy.period.count) \(remedy.period.unit.rawValue) "
                    + pages.text(remedy.periodStarts == .delivery ? "profile.fromDelivery" : "profile.fromDate")
                row["next"] = remedy.next.flatMap { p.remedies[$0] }.map { "\(en($0.name)) — \($0.body)" } ?? ""
            }
            return row
        }
        let remedies = p.remedies.sorted { $0.key < $1.key }.map { key, remedy -> [String: Any] in
            ["key": key, "name": en(remedy.name), "body": remedy.body, "address": remedy.address,
             "period": "\(remedy.period.count) \(remedy.period.unit.rawValue) "
                + pages.text(remedy.periodStarts == .delivery ? "profile.fromDelivery" : "profile.fromDate"),
             "form": en(remedy.form), "next": remedy.next.flatMap { p.remedies[$0] }.map { en($0.name) } ?? "", "source": remedy.source]
        }
        var messages: [String: String] = [:]
        for e in errors where messages[e.field == "reason" ? "reason" : "profile"] == nil {
            messages[e.field == "reason" ? "reason" : "profile"] = e.field == "reason" ? e.message : pages.text("profile.invalid")
        }
        let versions = try await profiles.versions(session.identity.agencyID).map {
            ["version": $0.version, "when": String($0.createdAt.prefix(16)).replacingOccurrences(of: "T", with: " "), "who": $0.createdBy,
             "reason": $0.reason, "sha256": String($0.sha256.prefix(12))] as [String: Any]
        }
        let data: [String: Any] = [
            "name": p.name, "jurisdiction": p.jurisdiction, "version": version ?? current.version, "storedVersion": current.version,
            "origin": current.origin, "sha256": String(current.sha256.prefix(12)), "shipped": current.version == 0, "reviewNote": p.reviewNote,
            "powers": powers, "remedies": remedies, "competence": en(p.competence), "dataProtection": en(p.dataProtection), "fileAccess": en(p.fileAccess),
            "postalSecrecy": en(p.postalSecrecy),
            "deadlines": pages.text(p.deadlines.rollToWorkingDay ? "profile.rolls" : "profile.doesNotRoll")
                + (p.deadlines.holidays.map { " " + pages.text("profile.holidaysOf") + " " + $0 } ?? "")
                + (p.deadlines.extraHolidays.isEmpty ? "" : " (+\(p.deadlines.extraHolidays.count))") + " — " + p.deadlines.source,
            "publication": pages.text(p.publication.naturalPersons ? "profile.namesPublished" : "profile.namesWithheld") + " — " + p.publication.source,
            "payment": p.finePayment.map { "\($0.beneficiary), IBAN \($0.iban)\($0.bic.map { ", BIC \($0)" } ?? ""), \($0.days)" } ?? "",
            "referral": p.referral.map { "\($0.body), \($0.address)" } ?? "",
            "recordYears": p.recordYears.map(String.init) ?? "",
            "versions": versions, "hasVersions": !versions.isEmpty, "json": typed ?? Self.profileJSON(p), "reason": reason,
            "errors": messages, "invalid": !errors.isEmpty,
            "problems": errors.map { ["field": $0.field, "message": $0.message] }, "refusal": refusal ?? "",
        ]
        return pages.page("procedure_profile", title: pages.text("profile.title"), data, session: session, status: status, flash: flash)
    }

    func saveProfile(_ form: PageForm, session: PageSession) async throws -> Response {
        let version = try self.version(form)
        let typed = form["profile"] ?? ""
        let reason = (form["reason"] ?? "").trimmingWhitespace
        do {
            _ = try await profiles.replace(session.identity.agencyID, json: typed, reason: reason.isEmpty ? nil : reason,
                                           expectedVersion: version, actor: session.identity.actor(requestID: nil))
        } catch StoreError.invalid(let problems) {
            return try await profilePage(session: session, typed: typed, reason: reason, version: version, errors: problems,
                                         status: .unprocessableContent)
        } catch StoreError.versionConflict {
            return try await profilePage(session: session, refusal: pages.text("profile.stale"), status: .preconditionFailed)
        }
        return try await profilePage(session: session, flash: pages.text("profile.saved"))
    }
}
