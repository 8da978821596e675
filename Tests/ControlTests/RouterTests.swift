import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

// RouterTests.swift: the API's router in process (HummingbirdTesting, no socket), beside the live Python tests
// in Tests/API: anonymous routes answer, every protected route refuses a missing or forged token with 401, a
// viewer gets 403 on admin routes, a must-change-password account is held to the password change, and the
// controllers' table is what the router serves.
@testable import Appliance
@testable import Control

@Suite struct RouterTests {
    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func token(_ client: some TestClientProtocol, _ user: String, _ password: String) async throws -> (String, Bool) {
        try await client.execute(
            uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
            body: json(#"{"username":"\#(user)","password":"\#(password)"}"#)
        ) { r in
            #expect(r.status == .ok)
            let j = try JSONValue.parse(Array(buffer: r.body))
            return (j["access_token"]?.stringValue ?? "", j["must_change_password"]?.boolValue ?? false)
        }
    }

    @Test func controllersServeTheirRoutesWithAuthenticationAndRoles() async throws {
        let api = try APIServices.forTests()
        _ = try api.bootstrapAdmin(username: "admin", password: "first-admin-password")
        let app = Application(router: APIServer.router(api))
        try await app.test(.router) { client in
            // anonymous: the OpenAPI document lists every controller's routes
            try await client.execute(uri: "/openapi.json", method: .get) { r in
                #expect(r.status == .ok)
                let doc = try JSONValue.parse(Array(buffer: r.body))
                guard case .object(let paths)? = doc["paths"] else { Issue.record("no paths"); return }
                let served = Set(paths.map(\.0))
                let declared = Set(APIRoutes.controllers.flatMap { $0.routes }.map { APIRoutes.prefix + $0.path })
                #expect(served == declared)
            }
            // every protected route: no token and a forged token are 401
            for route in APIRoutes.all where route.access != .anonymous {
                let uri = APIRoutes.prefix + route.path.replacingOccurrences(of: "{", with: "x").replacingOccurrences(of: "}", with: "")
                try await client.execute(uri: uri, method: route.method) { r in
                    #expect(r.status == .unauthorized, "\(route.method) \(uri) without a token: \(r.status)")
                }
                try await client.execute(uri: uri, method: route.method, headers: [.authorization: "Bearer eyJhbGciOiJub25lIn0.e30."]) { r in
                    #expect(r.status == .unauthorized, "\(route.method) \(uri) with a forged token: \(r.status)")
                }
            }
            // the first admin must change the password before anything else
            var (admin, mustChange) = try await Self.token(client, "admin", "first-admin-password")
            #expect(mustChange)
            try await client.execute(uri: "/api/v1/logs", method: .get, headers: [.authorization: "Bearer \(admin)"]) { r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(
                uri: "/api/v1/auth/change-password", method: .post,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                body: Self.json(#"{"old_password":"first-admin-password","new_password":"second-admin-password"}"#)
            ) { r in
                #expect(r.status == .ok)
            }
            (admin, mustChange) = try await Self.token(client, "admin", "second-admin-password")
            #expect(!mustChange)
            try await client.execute(uri: "/api/v1/logs", method: .get, headers: [.authorization: "Bearer \(admin)"]) { r in
                #expect(r.status == .ok)
            }
            // a viewer reads but may not administer
            try await client.execute(
                uri: "/api/v1/config/users", method: .post,
                headers: [.authorization: "Bearer \(admin)", .contentType: "application/json"],
                body: Self.json(#"{"username":"vera","password":"viewer-password-1","role":"viewer"}"#)
            ) { r in
                #expect(r.status == .ok || r.status == .created, "create viewer: \(r.status) \(String(buffer: r.body))")
            }
            let (viewer, _) = try await Self.token(client, "vera", "viewer-password-1")
            try await client.execute(
                uri: "/api/v1/auth/change-password", method: .post,
                headers: [.authorization: "Bearer \(viewer)", .contentType: "application/json"],
                body: Self.json(#"{"old_password":"viewer-password-1","new_password":"viewer-password-2"}"#)
            ) { _ in }
            let (viewer2, _) = try await Self.token(client, "vera", "viewer-password-2")
            try await client.execute(uri: "/api/v1/attackers", method: .get, headers: [.authorization: "Bearer \(viewer2)"]) { r in
                #expect(r.status == .ok)
            }
            for route in APIRoutes.all where route.access == .admin {
                let uri = APIRoutes.prefix + route.path.replacingOccurrences(of: "{", with: "x").replacingOccurrences(of: "}", with: "")
                try await client.execute(uri: uri, method: route.method, headers: [.authorization: "Bearer \(viewer2)"]) { r in
                    #expect(r.status == .forbidden, "viewer on \(route.method) \(uri): \(r.status)")
                }
            }
        }
    }
}
