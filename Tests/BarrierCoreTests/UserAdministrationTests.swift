import Foundation
import Testing

@testable import BarrierCore

/// An administrator's changes to a user, over every change, role, state and
/// whether the administrator acts on themself, against an oracle from the
/// rule's words; the password and token-expiry rules likewise.
@Suite("User administration decisions")
struct UserAdministrationTests {
    static let changes: [UserChange] = Role.allCases.map(UserChange.setRole) + [.disable, .enable, .resetPassword, .issueToken]

    @Test("self-disabling, self-demotion and resetting one's own password are refused; a change to the same state is refused; a disabled user gets no token")
    func changes() {
        for change in Self.changes {
            for role in Role.allCases {
                for disabled in [false, true] {
                    for actingOnSelf in [false, true] {
                        let target = UserAccountState(role: role, disabled: disabled)
                        let got = UserAdministration.refusal(change, target: target, actingOnSelf: actingOnSelf)
                        let expected: UserChangeRefusal?
                        switch change {
                        case .setRole(let new):
                            if actingOnSelf && role == .admin && new != .admin { expected = .demotingSelf }
                            else if new == role { expected = .unchanged("The user is already \(new.rawValue).") }
                            else { expected = nil }
                        case .disable:
                            expected = actingOnSelf ? .disablingSelf : disabled ? .unchanged("The user is already disabled.") : nil
                        case .enable:
                            expected = disabled ? nil : .unchanged("The user is not disabled.")
                        case .resetPassword:
                            expected = actingOnSelf ? .resettingOwnPassword : nil
                        case .issueToken:
                            expected = disabled ? .disabledUser : nil
                        }
                        #expect(got == expected, "\(change) on \(role) disabled=\(disabled) self=\(actingOnSelf)")
                        if let got { #expect(!got.message.isEmpty) }
                    }
                }
            }
        }
    }

    @Test("only the refusals about oneself are about who acts")
    func aboutSelf() {
        #expect(UserChangeRefusal.disablingSelf.isAboutSelf && UserChangeRefusal.demotingSelf.isAboutSelf)
        #expect(UserChangeRefusal.resettingOwnPassword.isAboutSelf)
        #expect(!UserChangeRefusal.disabledUser.isAboutSelf && !UserChangeRefusal.unchanged("x").isAboutSelf)
    }

    @Test("a new password: 12 characters at least, 72 bytes at most; a change names the current one and differs from it")
    func passwords() {
        let candidates = ["", "short", String(repeating: "a", count: 11), String(repeating: "a", count: 12), "twelve chärs",
                          String(repeating: "b", count: 72), String(repeating: "b", count: 73), String(repeating: "é", count: 36),
                          String(repeating: "é", count: 37)]
        for new in candidates {
            let tooShort = new.count < 12, tooLong = new.utf8.count > 72
            #expect((PasswordRule.problem(new) != nil) == (tooShort || tooLong), "\(new)")
            for current in ["", "correct horse battery", new] {
                var expected: Set<String> = []
                if current.isEmpty { expected.insert("current_password") }
                if tooShort || tooLong || new == current { expected.insert("new_password") }
                #expect(Set(PasswordRule.changeProblems(current: current, new: new).map(\.field)) == expected, "\(current) -> \(new)")
            }
        }
    }

    @Test("a token's last day: a real day, today or later")
    func tokenExpiry() {
        let today = "2026-12-02"
        let cases: [(String, Bool)] = [("2026-12-02", true), ("2026-12-03", true), ("2027-02-28", true), ("2026-12-01", false),
                                       ("2027-02-29", false), ("02.12.2026", false), ("", false), ("2026-1-05", false)]
        for (day, valid) in cases {
            #expect((TokenExpiry.problem(lastDay: day, today: today) == nil) == valid, "\(day)")
        }
    }
}
