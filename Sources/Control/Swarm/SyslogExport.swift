// SyslogExport.swift: RFC 5425 (syslog over TLS) as an export for SIEMs, `[export] syslog = host:port`. The
// master follows its store (every event, shipped ones included) and writes octet-counted frames (`LEN SP
// MSG`, RFC 5425 §4.3) over TLS with the SIEM's certificate verified (hostname included; export.syslog_ca or the
// system trust store) and, when given, a client certificate. The cursor is persisted after each flushed batch:
// at-least-once across reconnects and restarts (a SIEM deduplicates by the structured `id`). A new export
// starts at the newest event, not the whole history.
import Appliance
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

public struct SyslogExportConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var hostname: String = ProcessInfo.processInfo.hostName

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// From the configuration's `export.*` settings; nil when export.syslog is unset, an error when malformed.
    public static func from(_ c: DecnetConfiguration) throws -> SyslogExportConfiguration? {
        guard let target = c.string("export.syslog") else { return nil }
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]), (1...65535).contains(port),
            colon > target.startIndex
        else {
            throw SwarmPKI.Failure("export.syslog must be HOST:PORT, got \(target)")
        }
        var e = SyslogExportConfiguration(host: String(target[..<colon]).trimmingCharacters(in: ["[", "]"]), port: port)
        e.caFile = c.string("export.syslog_ca")
        e.certificateFile = c.string("export.syslog_cert")
        e.keyFile = c.string("export.syslog_key")
        guard (e.certificateFile == nil) == (e.keyFile == nil) else { throw SwarmPKI.Failure("export.syslog_cert and export.syslog_key go together") }
        return e
    }
}

public final class SyslogExporter: Sendable {
    let config: SyslogExportConfiguration
    let store: any DecnetStore
    let context: NIOSSLContext
    let logger = Logger.decnet("export.syslog")
    static let cursorKey = "export.syslog.cursor"

    public init(config: SyslogExportConfiguration, store: any DecnetStore, context: NIOSSLContext) {
        self.config = config
        self.store = store
        self.context = context
    }

    /// The TLS context (reads the CA and client certificate files: done before the process drops privileges).
    public static func context(for config: SyslogExportConfiguration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let ca = config.caFile { tls.trustRoots = .file(ca) }
        if let cert = config.certificateFile, let key = config.keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// One octet-counted frame: the event's RFC 5424 line (made from its columns when the stored line is not one).
    static func frame(_ r: LogRecord, hostname: String) -> [UInt8] {
        var line: String
        if r.rawLine.hasPrefix("<") {
            line = r.rawLine
        } else {
            var ts: [UInt8] = []
            appendUTCTime(ns: UInt64(max(0, r.timestamp) * 1e9), iso: true, into: &ts)
            func sd(_ v: String) -> String {
                v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "]", with: "\\]")
            }
            let pri = 16 * 8 + min(max(r.severity, 0), 7)  // local0
            line =
                "<\(pri)>1 \(String(decoding: ts, as: UTF8.self)) \(r.decky.isEmpty ? hostname : r.decky) \(r.service.isEmpty ? "decnet" : r.service) - \(r.eventType.isEmpty ? "-" : r.eventType) "
                + "[decnet@55555 id=\"\(r.id ?? 0)\" src_ip=\"\(sd(r.attackerIP))\"] \(r.msg ?? r.rawLine)"
        }
        while line.last == "\n" || line.last == "\r" { line.removeLast() }
        let body = Array(line.utf8)
        return Array("\(body.count) ".utf8) + body
    }

    public func run() async {
        var backoff = 1.0
        if (try? store.state(Self.cursorKey)) ?? nil == nil { try? store.setState(Self.cursorKey, String((try? store.newestLogID()) ?? 0)) }
        while !Task.isCancelled {
            do {
                try await session()
                backoff = 1
            } catch is CancellationError {
                return
            } catch {
                logger.warning("export: \(config.host):\(config.port): \(error); retry in \(Int(backoff)) s")
                try? await Task.sleep(for: .seconds(backoff))
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// One TLS connection: batches of up to 500 events, each flushed before the cursor moves.
    func session() async throws {
        let context = self.context, serverName = IPAddressCheck.isAddress(config.host) ? nil : config.host
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                }
            }
            .connect(host: config.host, port: config.port).get()
        defer { channel.close(promise: nil) }
        logger.notice("export: connected to \(config.host):\(config.port)")
        while !Task.isCancelled {
            let cursor = Int64((try? store.state(Self.cursorKey)).flatMap { $0 }.flatMap { Int64($0) } ?? 0)
            let rows = try store.outbox(after: cursor, limit: 500)
            if rows.isEmpty {
                guard channel.isActive else { throw SwarmHTTPError("connection closed") }
                try await Task.sleep(for: .milliseconds(250))
                continue
            }
            var out: [UInt8] = []
            for r in rows { out += Self.frame(r, hostname: config.hostname) }
            try await channel.writeAndFlush(ByteBuffer(bytes: out)).get()
            try store.setState(Self.cursorKey, String(rows.last!.id ?? cursor))
        }
    }
}

enum IPAddressCheck {
    static func isAddress(_ s: String) -> Bool {
        var a4 = in_addr(), a6 = in6_addr()
        return inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1
    }
}
