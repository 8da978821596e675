// SwarmHTTPS.swift: the swarm's HTTPS client: one request per connection over swift-nio + swift-nio-ssl with a
// pin-checking verification callback. async-http-client (used by the CLI's APIClient) takes a TLSConfiguration
// only, with no verification callback, so it cannot pin a peer's certificate in the handshake; this small client
// can. Requests are JSON (or gzip-compressed JSON); responses are capped at 8 MiB.
import Appliance
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

public struct SwarmHTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var json: JSONValue? { try? JSONValue.parse(body) }
    /// `detail` of an error body, else the body's first 200 characters.
    public var detail: String { json?["detail"]?.stringValue ?? String(String(decoding: body.prefix(200), as: UTF8.self)) }
}

public struct SwarmHTTPError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct SwarmHTTPSClient: Sendable {
    public typealias Verify = @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void
    let host: String
    let port: Int
    let context: NIOSSLContext
    let verify: Verify
    let timeout: TimeAmount

    public init(host: String, port: Int, tls: TLSConfiguration, verify: @escaping Verify, timeout: TimeAmount = .seconds(15)) throws {
        self.host = host
        self.port = port
        self.context = try NIOSSLContext(configuration: tls)
        self.verify = verify
        self.timeout = timeout
    }

    /// `https://HOST:PORT` -> (host, port); nil when malformed.
    public static func split(url: String, defaultPort: Int) -> (String, Int)? {
        guard url.hasPrefix("https://") else { return nil }
        var rest = url.dropFirst("https://".count)
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let h = String(rest[rest.index(after: rest.startIndex)..<close])
            let tail = rest[rest.index(after: close)...]
            if tail.isEmpty { return (h, defaultPort) }
            guard tail.hasPrefix(":"), let p = Int(tail.dropFirst()), (1...65535).contains(p) else { return nil }
            return (h, p)
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            return (String(rest[..<colon]), p)
        }
        return rest.isEmpty ? nil : (String(rest), defaultPort)
    }

    public func get(_ path: String) async throws -> SwarmHTTPResponse { try await send("GET", path, body: nil) }
    public func post(_ path: String, json: JSONValue) async throws -> SwarmHTTPResponse {
        try await send("POST", path, body: Array(json.serialized.utf8))
    }

    public func send(
        _ method: String, _ path: String, body: [UInt8]?, contentType: String = "application/json",
        headers extra: [(String, String)] = []
    ) async throws -> SwarmHTTPResponse {
        let promise = OnceResponse(MultiThreadedEventLoopGroup.singleton.next().makePromise(of: SwarmHTTPResponse.self))
        let context = self.context, verify = self.verify
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ssl = try NIOSSLClientHandler(context: context, serverHostname: nil, customVerificationCallback: verify)
                    try channel.pipeline.syncOperations.addHandler(ssl)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
        let channel: Channel
        do { channel = try await bootstrap.connect(host: host, port: port).get() } catch {
            promise.finish(.failure(error))
            throw SwarmHTTPError("cannot connect to \(host):\(port): \(error)")
        }
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            promise.finish(.failure(SwarmHTTPError("\(method) \(path): no answer within \(timeout.nanoseconds / 1_000_000_000) s")))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "decnet-swarm")
        for (k, v) in extra { head.headers.add(name: k, value: v) }
        if let body {
            head.headers.add(name: "Content-Type", value: contentType)
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        do { return try await promise.promise.futureResult.get() } catch let e as SwarmHTTPError { throw e } catch let e as NIOSSLError {
            throw SwarmHTTPError("TLS with \(host):\(port) failed (\(e)): the peer's certificate is not the pinned one, or ours is refused")
        } catch {
            throw SwarmHTTPError("\(method) \(path) at \(host):\(port): \(error)")
        }
    }
}

/// A promise completed once, whoever gets there first (response, error, timeout, close).
final class OnceResponse: Sendable {
    let promise: EventLoopPromise<SwarmHTTPResponse>
    let done = NIOLockedValueBox(false)
    init(_ p: EventLoopPromise<SwarmHTTPResponse>) { promise = p }
    func finish(_ r: Result<SwarmHTTPResponse, Error>) {
        let first = done.withLockedValue { d in
            defer { d = true }
            return !d
        }
        if first { promise.completeWith(r) }
    }
}

final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let promise: OnceResponse
    var status = 0
    var body: [UInt8] = []
    static let limit = 8 << 20

    init(promise: OnceResponse) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): status = Int(h.status.code)
        case .body(var b):
            if body.count + b.readableBytes > Self.limit {
                finish(.failure(SwarmHTTPError("response larger than 8 MiB")))
                context.close(promise: nil)
                return
            }
            body += b.readBytes(length: b.readableBytes) ?? []
        case .end:
            finish(.success(SwarmHTTPResponse(status: status, body: body)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(SwarmHTTPError("connection closed before a response")))
    }

    func finish(_ r: Result<SwarmHTTPResponse, Error>) { promise.finish(r) }
}
