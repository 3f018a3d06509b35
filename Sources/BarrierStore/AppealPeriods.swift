import BarrierCore
import Foundation
import PostgresNIO

/// The last day of the remedy period against a decision, counted by Core from the
/// agency's procedure profile and kept on the action (`appeal_ends_on`), so the
/// public register can tell a final decision from one still open to appeal.
/// The period starts when the decision letter is dated (approved) or reaches
/// the supplier (delivered, or answered), as the profile says.
enum AppealPeriods {
    static func settle(letterID: UUID, on conn: PostgresConnection, db: Database) async throws {
        let rows = try await conn.query(
            """
            SELECT a.id, a.type, a.agency_id, l.letter_date::text, coalesce(l.delivered_on, l.responded_on)::text, g.appeal_days
            FROM letters l JOIN licensing_actions a ON a.id = l.licensing_action_id JOIN agencies g ON g.id = a.agency_id
            WHERE l.id = \(letterID) AND l.kind IN ('decision_notice', 'warning') AND l.reference IS NOT NULL
            """, logger: db.logger)
        for try await (actionID, type, agencyID, dated, reached, fallbackDays) in rows.decode((UUID, String, UUID, String?, String?, Int).self) {
            let profile = try await ProcedureProfileStore(db).current(agencyID, on: conn).profile
            let period = AppealPeriod.of(LicensingActionType(rawValue: type)!, profile: profile, fallbackDays: fallbackDays)
            guard let start = period.starts == .delivery ? reached : dated,
                  let ends = ProcedureCalendar.end(of: period.period, from: start, period.rule) else { return }
            try await conn.query(
                "UPDATE licensing_actions SET appeal_ends_on = \(ends)::date WHERE id = \(actionID) AND appeal_ends_on IS DISTINCT FROM \(ends)::date",
                logger: db.logger)
        }
    }
}
