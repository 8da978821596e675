// DeckiesController.swift: The decky fleet: list, lifecycle, deploy, mutate, tear down.
import Appliance
import Fingerprint
import Hummingbird
import NIOCore

extension APIRoutes {
    enum DeckiesController: APIController {
        static var routes: [Route] {
            [
                Route(method: .get, path: "/deckies", access: .viewer, tag: "deckies", summary: "The decky fleet", replies: ok(.array(.ref("Decky"))))
                { c in
                    let store = c.api.store
                    return JSONResponse.make(try await c.api.deckyCache.get("all") { .array(try store.deckies().map(\.json)) })
                },
                Route(
                    method: .get, path: "/deckies/lifecycle", access: .viewer, tag: "deckies", summary: "Deploy progress of the given deckies",
                    query: [
                        Param(
                            "ids", .text(min: 1, max: 4096), required: true,
                            "Comma-separated decky names (lifecycle ids), at most 200; empty names are skipped")
                    ],
                    replies: ok(.obj([Prop("rows", .array(.ref("Lifecycle")))]))
                ) { c in
                    let ids = c.q("ids")!.split(separator: ",").map { String($0).trimmingCharacters(in: [" "]) }.filter { !$0.isEmpty }
                    // `ids=,` names no decky: no rows (it was schema-valid and answered 422).
                    guard ids.count <= 200 else { throw APIError.unprocessable("query.ids: at most 200 ids") }
                    let want = Set(ids)
                    let rows = try c.api.store.deckies().filter { want.contains($0.name) }.map(\.lifecycleJSON)
                    return JSONResponse.make(.object([("rows", .array(rows))]))
                },
                Route(
                    method: .post, path: "/deckies/deploy", access: .admin, tag: "deckies",
                    summary: "Deploy deckies from INI text; `decnet serve` brings them up",
                    body: .body([Prop("ini_content", .text(max: 512 << 10)), Prop("replace_fleet", .boolean, required: false)]),
                    // Admin-only (the token is checked before the body is read); room for 512 Ki characters of 4-byte UTF-8.
                    bodyLimit: 8 << 20,
                    replies: [
                        Reply(
                            status: 202, description: "accepted",
                            schema: .obj([Prop("message", .text), Prop("mode", .text), Prop("lifecycle_ids", .array(.text))]))
                    ],
                    errors: [409]
                ) { c in
                    try await DeployRoute.deploy(c)
                },
                Route(
                    method: .post, path: "/deckies/{decky_name}/mutate", access: .admin, tag: "deckies",
                    summary: "Rotate this decky's services now (trigger operator); `decnet serve` swaps the decoys",
                    pathParams: [deckyName],
                    replies: [
                        Reply(
                            status: 202, description: "mutated",
                            schema: .obj([
                                Prop("lifecycle_ids", .array(.text)),
                                Prop("old_services", .array(.text)), Prop("new_services", .array(.text)),
                            ]))
                    ],
                    errors: [404]
                ) { c in
                    try await DeployRoute.mutate(c)
                },
                Route(
                    method: .delete, path: "/deckies/{decky_name}", access: .admin, tag: "deckies", summary: "Tear one decky down",
                    pathParams: [deckyName], replies: [Reply(status: 204, description: "removed", schema: nil)], errors: [404]
                ) { c in
                    try await DeployRoute.remove(c)
                },
            ]
        }
    }
}
