import NIOHTTP1
import Testing
@testable import SlothdCore

@Suite("The control API's request mapping")
struct ControlRequestTests {
    static let rows: [(uri: String, path: [String], query: [String: String])] = [
        ("/v1/status", ["status"], [:]),
        ("/v1/runs?limit=5&state=failed", ["runs"], ["limit": "5", "state": "failed"]),
        ("/v1/runs/1%2Fcancel", ["runs", "1/cancel"], [:]),
        ("/v1/workflows/a%20b/history", ["workflows", "a b", "history"], [:]),
        ("/metrics", ["unversioned", "metrics"], [:]),
        ("/v1//runs/", ["runs"], [:]),
    ]

    @Test("a URI becomes path segments and a query; an encoded slash stays inside its segment", arguments: rows)
    func mapping(_ row: (uri: String, path: [String], query: [String: String])) {
        let request = ControlRequest(HTTPRequestHead(version: .http1_1, method: .GET, uri: row.uri), body: [], peer: 0)
        #expect(request.path == row.path)
        #expect(request.query == row.query)
    }

    @Test("an encoded slash does not reach another endpoint")
    func encodedSlash() {
        let request = ControlRequest(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/runs/1%2Fcancel"), body: [], peer: 0)
        #expect(ControlEndpoint(request.path) == .run("1/cancel"))
    }
}
