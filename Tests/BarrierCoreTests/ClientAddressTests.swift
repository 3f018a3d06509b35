import BarrierCore
import Testing

@Suite("Client address behind proxies")
struct ClientAddressTests {
    static let rule = ClientAddressRule(trustedProxies: IPAddressRange.list("10.0.0.0/8, 192.0.2.1, 2001:db8:ffff::/48").ranges)

    struct Case: CustomTestStringConvertible, Sendable {
        var peer: String?
        var header: [String]
        var expected: String
        var note: String
        var testDescription: String { note }
    }

    @Test("the peer, or what a trusted proxy reports: right-most address not trusted", arguments: [
        // An untrusted peer is the client, whatever the header says.
        Case(peer: "198.51.100.7", header: [], expected: "198.51.100.7", note: "untrusted peer, no header"),
        Case(peer: "198.51.100.7", header: ["203.0.113.9"], expected: "198.51.100.7", note: "untrusted peer, forged header"),
        Case(peer: "198.51.100.7", header: ["203.0.113.9, 10.0.0.1", "203.0.113.10"], expected: "198.51.100.7", note: "untrusted peer, several forged lines"),
        Case(peer: "198.51.100.7", header: ["garbage"], expected: "198.51.100.7", note: "untrusted peer, garbage header"),
        // A trusted peer: the header's right-most address that is not a trusted proxy.
        Case(peer: "10.1.2.3", header: [], expected: "10.1.2.3", note: "trusted peer, no header: the proxy itself"),
        Case(peer: "10.1.2.3", header: ["203.0.113.9"], expected: "203.0.113.9", note: "trusted peer, one address"),
        Case(peer: "10.1.2.3", header: ["1.1.1.1, 203.0.113.9"], expected: "203.0.113.9", note: "trusted peer, client forged an address to the left"),
        Case(peer: "10.1.2.3", header: ["1.1.1.1, 203.0.113.9, 192.0.2.1, 10.9.9.9"], expected: "203.0.113.9", note: "trusted peer, chain of trusted proxies"),
        Case(peer: "10.1.2.3", header: ["1.1.1.1", "203.0.113.9, 10.0.0.5"], expected: "203.0.113.9", note: "trusted peer, several header lines read as one list"),
        Case(peer: "10.1.2.3", header: ["10.0.0.9, 192.0.2.1"], expected: "10.0.0.9", note: "trusted peer, only trusted addresses: the furthest"),
        Case(peer: "10.1.2.3", header: ["1.1.1.1, unknown"], expected: "10.1.2.3", note: "trusted peer, right-most entry no address: the peer"),
        Case(peer: "10.1.2.3", header: ["1.1.1.1, garbage, 192.0.2.1"], expected: "192.0.2.1", note: "trusted peer, garbage behind a trusted hop: that hop"),
        Case(peer: "10.1.2.3", header: ["203.0.113.9:4711"], expected: "203.0.113.9", note: "trusted peer, an address with a port"),
        Case(peer: "10.1.2.3", header: ["[2001:db8:1:2:3:4:5:6]:443"], expected: "2001:db8:1:2::/64", note: "trusted peer, bracketed IPv6 with a port: its /64"),
        Case(peer: "10.1.2.3", header: ["2001:db8:1:2::99, 2001:db8:ffff::1"], expected: "2001:db8:1:2::/64", note: "trusted peer, IPv6 client behind a trusted IPv6 proxy"),
        Case(peer: "10.1.2.3", header: [""], expected: "10.1.2.3", note: "trusted peer, empty header"),
        // Peers in other notations.
        Case(peer: "::ffff:10.1.2.3", header: ["203.0.113.9"], expected: "203.0.113.9", note: "IPv4-mapped trusted peer"),
        Case(peer: "::ffff:198.51.100.7", header: ["203.0.113.9"], expected: "198.51.100.7", note: "IPv4-mapped untrusted peer"),
        Case(peer: "2001:db8:5:6:7:8:9:a", header: ["203.0.113.9"], expected: "2001:db8:5:6::/64", note: "untrusted IPv6 peer: its /64"),
        Case(peer: "2001:db8:ffff:1::1", header: ["203.0.113.9"], expected: "203.0.113.9", note: "trusted IPv6 peer"),
        Case(peer: nil, header: ["203.0.113.9"], expected: ClientAddressRule.unknownClient, note: "no peer address (a Unix socket)"),
    ])
    func xForwardedFor(_ c: Case) {
        #expect(Self.rule.clientKey(peer: c.peer, headerValues: c.header) == c.expected)
    }

    @Test("no trusted proxies (the default): the header is never read")
    func nothingTrusted() {
        let rule = ClientAddressRule()
        #expect(rule.header == "X-Forwarded-For")
        for header in [[], ["203.0.113.9"], ["203.0.113.9, 127.0.0.1"]] {
            #expect(rule.clientKey(peer: "127.0.0.1", headerValues: header) == "127.0.0.1")
        }
    }

    @Test("RFC 7239 Forwarded: the for= parameters, quoted IPv6 with a port too")
    func forwarded() {
        let rule = ClientAddressRule(trustedProxies: IPAddressRange.list("10.0.0.0/8").ranges, header: "Forwarded")
        #expect(rule.clientKey(peer: "10.0.0.1", headerValues: ["for=1.1.1.1, for=203.0.113.9;proto=https;by=10.0.0.1"]) == "203.0.113.9")
        #expect(rule.clientKey(peer: "10.0.0.1", headerValues: ["for=\"[2001:db8:1:2::7]:4711\""]) == "2001:db8:1:2::/64")
        #expect(rule.clientKey(peer: "10.0.0.1", headerValues: ["proto=https"]) == "10.0.0.1")
        #expect(rule.clientKey(peer: "10.0.0.1", headerValues: ["for=_hidden"]) == "10.0.0.1")
        #expect(rule.clientKey(peer: "198.51.100.7", headerValues: ["for=203.0.113.9"]) == "198.51.100.7")
    }

    @Test("addresses and ranges: parsed strictly, matched by prefix")
    func parsing() throws {
        #expect(IPAddress("192.0.2.1")?.bytes == [192, 0, 2, 1])
        #expect(IPAddress("::1")?.description == "0:0:0:0:0:0:0:1")
        #expect(IPAddress("2001:DB8::1")?.clientKey == "2001:db8:0:0::/64")
        #expect(IPAddress("fe80::1%eth0") != nil)
        #expect(IPAddress("::ffff:192.0.2.1") == IPAddress("192.0.2.1"))
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", "localhost", "1.2.3.4/8"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        let (ranges, invalid) = IPAddressRange.list(" 10.0.0.0/8 ,192.0.2.7,, 2001:db8::/32, ::ffff:172.16.0.0/108, 1.2.3.0/33, nonsense, 10.0.0.0/")
        #expect(ranges.map(\.description) == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8:0:0:0:0:0:0/32", "172.16.0.0/12"])
        #expect(invalid == ["1.2.3.0/33", "nonsense", "10.0.0.0/"])
        let block = try #require(IPAddressRange("172.16.0.0/12"))
        #expect(block.contains(IPAddress("172.31.255.255")!) && !block.contains(IPAddress("172.32.0.0")!))
        #expect(!block.contains(IPAddress("2001:db8::1")!))
        #expect(IPAddressRange("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(IPAddressRange("2001:db8::/32")!.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(!IPAddressRange("2001:db8::/32")!.contains(IPAddress("2001:db9::1")!))
    }
}
