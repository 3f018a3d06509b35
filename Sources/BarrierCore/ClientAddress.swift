/// An IPv4 or IPv6 address, as 4 or 16 bytes. An IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`, what a server bound to `::` sees for an IPv4 peer) is
/// the IPv4 address.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    /// Parses a bare address (no port, no brackets); an IPv6 zone (`%eth0`) is dropped.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        if let v4 = Self.parseIPv4(text) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6[0..<10].allSatisfy { $0 == 0 } && v6[10] == 0xff && v6[11] == 0xff ? Array(v6[12...]) : v6
        } else {
            return nil
        }
    }

    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        return Self.groups(bytes, count: 8).joined(separator: ":")
    }

    /// The key a client is counted under: the IPv4 address itself, or an IPv6
    /// address's /64 (one subscriber usually holds a whole /64, and could
    /// otherwise spread attempts over 2^64 addresses).
    public var clientKey: String {
        isIPv4 ? description : Self.groups(bytes, count: 4).joined(separator: ":") + "::/64"
    }

    private static func groups(_ bytes: [UInt8], count: Int) -> [String] {
        (0..<count).map { String(UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]), radix: 16) }
    }

    private static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            // Decimal only, no leading zeros (`010` is octal to some parsers: refused rather than guessed).
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part == "0" || !part.hasPrefix("0"), let n = UInt8(part) else { return nil }
            out.append(n)
        }
        return out
    }

    private static func parseIPv6(_ raw: String) -> [UInt8]? {
        var text = Substring(raw)
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        guard text.contains(":"), text.count <= 45 else { return nil }
        func parseGroups(_ part: Substring, allowIPv4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt8] = []
            for (i, field) in fields.enumerated() {
                if allowIPv4Tail, i == fields.count - 1, field.contains(".") {
                    guard let v4 = parseIPv4(String(field)) else { return nil }
                    out += v4
                } else {
                    guard (1...4).contains(field.count), field.allSatisfy(\.isHexDigit), let n = UInt16(field, radix: 16) else { return nil }
                    out += [UInt8(n >> 8), UInt8(n & 0xff)]
                }
            }
            return out
        }
        let halves = text.components(separatedBy: "::")
        switch halves.count {
        case 1:
            guard let all = parseGroups(text, allowIPv4Tail: true), all.count == 16 else { return nil }
            return all
        case 2:
            guard let head = parseGroups(Substring(halves[0]), allowIPv4Tail: false),
                  let tail = parseGroups(Substring(halves[1]), allowIPv4Tail: true), head.count + tail.count <= 14 else { return nil }
            return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
        default:
            return nil
        }
    }
}

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`).
public struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.trimmingSpaces.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(parts[0]) else { return nil }
        let written = parts[0].contains(":") ? 128 : 32
        var length = address.bytes.count * 8
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[1]),
                  n <= written else { return nil }
            // An IPv4-mapped block (::ffff:10.0.0.0/104) is the IPv4 block.
            length = n - (written - address.bytes.count * 8)
            guard length >= 0 else { return nil }
        }
        self.address = address
        self.prefixLength = length
    }

    public func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == address.bytes.count else { return false }
        var left = prefixLength
        for (a, b) in zip(ip.bytes, address.bytes) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xff : ~(0xff >> UInt8(left))
            if a & mask != b & mask { return false }
            left -= 8
        }
        return true
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// A comma-separated list (TRUSTED_PROXIES): the ranges, or the entries that are none.
    public static func list(_ text: String) -> (ranges: [IPAddressRange], invalid: [String]) {
        var ranges: [IPAddressRange] = [], invalid: [String] = []
        for entry in text.split(separator: ",").map(\.trimmingSpaces) where !entry.isEmpty {
            if let range = IPAddressRange(entry) { ranges.append(range) } else { invalid.append(entry) }
        }
        return (ranges, invalid)
    }
}

/// Which client a request comes from, for limits per client (failed sign-ins).
///
/// The client is the TCP peer, unless the peer is one of `trustedProxies`:
/// then it is the address that proxy reports in `header`. The header is a list
/// (`X-Forwarded-For: client, proxy1, proxy2`, or RFC 7239 `Forwarded: for=…`,
/// several header lines read as one list in order) in which each proxy appends
/// the peer it saw, so only its right end can be believed: the rule walks from
/// the right past trusted proxies and takes the first address that is not one.
/// Whatever a client writes further left is never read, so a forged header
/// cannot make one client look like many. An entry that is no address
/// (`unknown`, garbage) stops the walk at the last trusted hop before it. A
/// peer that is not trusted is the client, whatever the header says.
public struct ClientAddressRule: Sendable, Equatable {
    public var trustedProxies: [IPAddressRange]
    /// The header a trusted proxy puts the client in (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`, …).
    public var header: String

    /// The key of a request whose peer is unknown (no IP: a Unix socket, or a test without a socket).
    public static let unknownClient = "unknown"

    public init(trustedProxies: [IPAddressRange] = [], header: String = "X-Forwarded-For") {
        self.trustedProxies = trustedProxies
        self.header = header
    }

    public func isTrusted(_ ip: IPAddress) -> Bool { trustedProxies.contains { $0.contains(ip) } }

    /// The client's address: `peer` is the socket's remote IP, `headerValues` every line of `header`, in order.
    public func client(peer: String?, headerValues: [String]) -> IPAddress? {
        guard let peer = peer.flatMap({ IPAddress($0) }) else { return nil }
        guard isTrusted(peer), !headerValues.isEmpty else { return peer }
        let forwarded = header.lowercased() == "forwarded"
        let entries = headerValues.flatMap { $0.split(separator: ",") }.map { forwarded ? Self.forwardedFor($0) : $0.trimmingSpaces }
        var client = peer
        for entry in entries.reversed() {
            guard let entry, let ip = Self.address(in: entry) else { break }
            client = ip
            if !isTrusted(ip) { break }
        }
        return client
    }

    /// The key the client is counted under (`IPAddress.clientKey`, or `unknownClient`).
    public func clientKey(peer: String?, headerValues: [String]) -> String {
        client(peer: peer, headerValues: headerValues)?.clientKey ?? Self.unknownClient
    }

    /// An entry's address: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, optionally quoted.
    static func address(in raw: String) -> IPAddress? {
        var text = Substring(raw.trimmingSpaces)
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }) else { return nil }
            return IPAddress(text[text.index(after: text.startIndex)..<close])
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            let port = text[text.index(after: colon)...]
            guard port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return IPAddress(text[..<colon]).flatMap { $0.isIPv4 ? $0 : nil }
        }
        return IPAddress(text)
    }

    /// The `for=` of one element of an RFC 7239 `Forwarded` header; nil when it has none.
    static func forwardedFor(_ element: Substring) -> String? {
        for pair in element.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingSpaces.lowercased() == "for" { return parts[1].trimmingSpaces }
        }
        return nil
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
