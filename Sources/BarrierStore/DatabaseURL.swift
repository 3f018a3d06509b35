import Foundation
import NIOSSL
import PostgresNIO

/// A `postgres://` or `postgresql://` URL as libpq reads it, including the
/// Unix-socket form `postgresql://user@/db?host=/socket/dir`.
public struct DatabaseURL: Sendable, Equatable {
    public var user: String
    public var password: String?
    public var host: String?
    public var port: Int
    public var socketDirectory: String?
    public var database: String
    public var requireTLS: Bool

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError.cluster("DATABASE_URL must look like postgres://user:password@host:5432/database")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        self.user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        self.password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        self.port = components.port ?? Int(query["port"] ?? "") ?? 5432
        let hostParameter = query["host"]
        if let dir = hostParameter, dir.hasPrefix("/") {
            self.socketDirectory = dir
            self.host = nil
        } else if let host = components.host, !host.isEmpty {
            self.host = host
            self.socketDirectory = nil
        } else if let host = hostParameter, !host.isEmpty {
            self.host = host
            self.socketDirectory = nil
        } else {
            self.socketDirectory = "/var/run/postgresql"
            self.host = nil
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty else { throw StoreError.cluster("DATABASE_URL names no database") }
        self.database = path
        self.requireTLS = ["require", "verify-ca", "verify-full"].contains(query["sslmode"] ?? "")
    }

    /// The same server, another database (tests clone one per test).
    /// The same server and database as another role (the embedded cluster's server login needs no password).
    public func with(user: String, password: String? = nil) -> DatabaseURL {
        var copy = self
        copy.user = user
        copy.password = password
        return copy
    }

    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    public var text: String {
        var userInfo = user.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? user
        if let password { userInfo += ":" + (password.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? password) }
        if let socketDirectory {
            return "postgresql://\(userInfo)@/\(database)?host=\(socketDirectory)" + (port == 5432 ? "" : "&port=\(port)")
        }
        return "postgresql://\(userInfo)@\(host ?? "localhost"):\(port)/\(database)" + (requireTLS ? "?sslmode=require" : "")
    }

    public func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS =
                requireTLS ? .require(.makeClientConfiguration()) : .disable
            configuration = .init(host: host ?? "localhost", port: port, username: user, password: password, database: database, tls: tls)
        }
        return configuration
    }

    /// One connection outside the pool (the availability probe).
    public func connectionConfiguration(connectTimeout: TimeAmount) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host ?? "localhost", port: port, username: user, password: password, database: database,
                                  tls: requireTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable)
        }
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }
}
