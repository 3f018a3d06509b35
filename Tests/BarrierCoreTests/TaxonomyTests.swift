import Testing

@testable import BarrierCore

/// An administrator's addition or change to a catalogue of the barrier model,
/// over every catalogue, for a new entry and a change, with each field present,
/// missing or wrong, against an oracle written from the rules' words.
@Suite("Catalogue entries: which fields each catalogue takes, which a new entry needs, and their rules")
struct TaxonomyTests {
    static let names = ["en": "Parcel robots", "fr": "Robots de livraison", "nl": "Bezorgrobots", "de": "Lieferroboter"]

    /// A complete, valid new entry of each catalogue.
    static func valid(_ c: TaxonomyCatalogue) -> TaxonomyDraft {
        switch c {
        case .sectors: TaxonomyDraft(code: "delivery_robot_operator", label: "Delivery robot operator", names: names, reason: "New in the market.")
        case .indicators: TaxonomyDraft(code: "robot_pickups", label: "Robot pick-ups at night", type: .logistical, stages: [.shipping],
                                        source: .practice, sourceNote: "Seen by customs", reason: "Seen twice.")
        case .measures: TaxonomyDraft(code: "robot_route_logs", label: "Route logs kept", description: "Logs for 90 days.", sectors: ["courier"],
                                      reason: "Asked by the sector.")
        case .opportunities: TaxonomyDraft(label: "Unattended pick-up points", stage: .shipping, source: .paper, reason: "The 2026 update.")
        }
    }

    enum Mutation: CaseIterable {
        case none, dropRequired, foreignField, badCode, takenCode, blankReason, longLabel, missingGerman, unknownSector, noStages
    }

    static func mutated(_ c: TaxonomyCatalogue, _ m: Mutation) -> TaxonomyDraft {
        var d = valid(c)
        switch m {
        case .none: break
        case .dropRequired: d.label = nil
        case .foreignField: if c == .measures { d.stage = .selling } else { d.description = "Not mine." }
        case .badCode: if c != .opportunities { d.code = "Robot-Ops" }
        case .takenCode: if c != .opportunities { d.code = "courier" }
        case .blankReason: d.reason = "  "
        case .longLabel: d.label = String(repeating: "x", count: 201)
        case .missingGerman: if c == .sectors { d.names?["de"] = " " }
        case .unknownSector: if c == .measures { d.sectors = ["courier", "bikes"] }
        case .noStages: if c == .indicators { d.stages = [] }
        }
        return d
    }

    /// The fields the rules' words say are wrong.
    static func expected(_ c: TaxonomyCatalogue, _ m: Mutation, creating: Bool) -> Set<String> {
        var fields: Set<String> = []
        let coded = c != .opportunities
        if !creating {
            // A change keeps the code and the stage: records refer to them.
            if coded { fields.insert("code") }
            if c == .opportunities { fields.insert("stage") }
        }
        switch m {
        case .none: break
        case .dropRequired: if creating { fields.insert("label") }
        case .foreignField: fields.insert(c == .measures ? "stage" : "description")
        case .badCode: if coded { fields.insert("code") }
        case .takenCode: if coded && creating { fields.insert("code") }
        case .blankReason: fields.insert("reason")
        case .longLabel: fields.insert("label")
        case .missingGerman: if c == .sectors { fields.insert("names.de") }
        case .unknownSector: if c == .measures { fields.insert("sectors") }
        case .noStages: if c == .indicators { fields.insert("stages") }
        }
        return fields
    }

    @Test("every catalogue, new entry or change, and each way to get it wrong", arguments: TaxonomyCatalogue.allCases)
    func everyCombination(catalogue: TaxonomyCatalogue) {
        let existing: Set<String> = ["courier", "frequent_consignments", "named_contact_point"]
        for creating in [true, false] {
            for m in Mutation.allCases {
                let draft = Self.mutated(catalogue, m)
                let problems = draft.problems(catalogue, creating: creating, existing: existing, knownSectors: ["courier", "postal_service"])
                #expect(Set(problems.map(\.field)) == Self.expected(catalogue, m, creating: creating), "\(catalogue) \(m) creating: \(creating): \(problems)")
                #expect(problems.allSatisfy { !$0.message.isEmpty })
            }
        }
    }

    @Test("a change must change something besides giving a reason")
    func emptyChange() {
        for c in TaxonomyCatalogue.allCases {
            let problems = TaxonomyDraft(reason: "Because.").problems(c, creating: false, existing: [], knownSectors: [])
            #expect(problems.map(\.field) == ["label"], "\(c): \(problems)")
            #expect(TaxonomyDraft(label: "Renamed", reason: "Because.").problems(c, creating: false, existing: [], knownSectors: []).isEmpty)
        }
    }
}
