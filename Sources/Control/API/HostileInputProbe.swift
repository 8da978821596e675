// HostileInputProbe.swift: the API's input decoding, callable without a server, for the Swift fuzz driver
// (Tests/SwiftFuzz). Each entry runs exactly the code a request runs: query parameters of every route
// through `RouteDispatch.parseParam`/`parseInteger`, JSON bodies through the route's schema, RFC 3339 times,
// the JWT verifier, the dashboard's form decoding and offset. Nothing here is routed.
import Appliance
import Fingerprint

public enum HostileInputProbe {
    /// Every (route, query parameter) pair, for the driver to aim values at.
    public static let queryTargets: [(route: Int, param: Int)] = APIRoutes.all.enumerated().flatMap { (i, r) in
        r.query.indices.map { (i, $0) }
    }
    /// Routes with a JSON body.
    public static let bodyTargets: [Int] = APIRoutes.all.indices.filter { APIRoutes.all[$0].body != nil }
    static let routes = APIRoutes.all
    static let signer = try! TokenSigner(secret: String(repeating: "f", count: 40))

    /// One query value for one parameter of one route, then the route's time filters, as the dispatcher does.
    public static func query(target: Int, value: String) {
        guard !queryTargets.isEmpty else { return }
        let t = queryTargets[target % queryTargets.count]
        let p = routes[t.route].query[t.param]
        _ = try? RouteDispatch.parseParam(value, p, where: "query")
        if case .integer = p.schema { _ = try? RouteDispatch.parseInteger(value, p, name: p.name) }
        _ = RouteDispatch.normaliseAbsent(value)
        _ = ISOTime.parse(value)
    }

    /// A JSON body for one route's schema (parse, then validate).
    public static func body(target: Int, bytes: [UInt8]) {
        guard !bodyTargets.isEmpty, let schema = routes[bodyTargets[target % bodyTargets.count]].body else { return }
        guard let v = try? JSONValue.parse(bytes) else { return }
        try? schema.validate(v, path: "body", components: OpenAPIDocument.components)
    }

    /// A bearer token as sent, and the same bytes as the payload of a correctly signed token (so the claims
    /// checks run, not only the MAC).
    public static func token(_ bytes: [UInt8]) {
        _ = try? signer.verify(String(decoding: bytes, as: UTF8.self), now: 1_800_000_000)
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let input = header + "." + Base64URL.encode(bytes)
        _ = try? signer.verify(input + "." + Base64URL.encode(signer.mac(input.utf8)), now: 1_800_000_000)
    }

    /// The dashboard's inputs: a url-encoded form body, the attackers page offset, cookie headers, Origin.
    public static func dashboard(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = Dashboard.decodeForm(text)
        _ = CheckedInt.parse(text, in: 0...1_000_000_000)
        _ = Dashboard.h(text)
        _ = percentEncoded(text)
        _ = LoginLimiter.sourceKey(text)
    }
}
