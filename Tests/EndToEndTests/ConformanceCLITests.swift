import Foundation
import Testing

/// Every row of ../shared/conformance, run through the real binary as the README says.
@Suite("Conformance vectors through the CLI")
struct ConformanceCLITests {
    struct NextRow: Decodable, Sendable {
        let expr: String, tz: String, from: String, next: [String]
    }

    struct ExpressionRow: Decodable, Sendable {
        let expr: String
    }

    static let directory: URL = {
        if let dir = ProcessInfo.processInfo.environment["SLOTH_CONFORMANCE_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()

    static func rows<T: Decodable>(_ file: String) throws -> [T] {
        let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    /// Rows of cron-reject.jsonl that SPEC section 6 accepts (`nL`, `L-n`); "0 0 * * 5L" is also in cron-accept.jsonl.
    static let acceptedBySpec: Set<String> = ["0 0 * * 5L", "0 0 L-3 * *"]

    @Test("cron-next.jsonl: the first five fires, compared as instants")
    func nextRows() async throws {
        let rows: [NextRow] = try Self.rows("cron-next.jsonl")
        let failures = try await Self.parallelMap(rows) { row -> String? in
            let result = try await CLI.run(["scheduler", "next", row.expr, "--tz", row.tz, "--from", row.from, "--count", "5", "-o", "json"])
            guard result.status == 0,
                  let document = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                  let next = document["next"] as? [String]
            else { return "\(row.expr) [\(row.tz)]: exit \(result.status) \(result.stderr)" }
            let instants = next.map { try? Date($0, strategy: .iso8601) }
            let expected = row.next.map { try? Date($0, strategy: .iso8601) }
            return instants == expected ? nil : "\(row.expr) [\(row.tz)] from \(row.from): \(next) != \(row.next)"
        }
        #expect(rows.count >= 500)
        #expect(failures.compactMap { $0 } == [])
    }

    @Test("cron-accept.jsonl parses (exit 0); cron-reject.jsonl exits 2 with a message")
    func acceptAndRejectRows() async throws {
        let accept: [ExpressionRow] = try Self.rows("cron-accept.jsonl")
        let reject: [ExpressionRow] = try Self.rows("cron-reject.jsonl")
        let cases = accept.map { ($0.expr, true) } + reject.map { ($0.expr, Self.acceptedBySpec.contains($0.expr)) }
        let failures = try await Self.parallelMap(cases) { expr, accepted -> String? in
            let result = try await CLI.run(["scheduler", "next", expr, "--tz", "UTC", "--from", "2026-01-01T00:00", "-o", "json"])
            if accepted { return result.status == 0 ? nil : "\(expr) refused: \(result.stderr)" }
            return result.status == 2 && result.stderr.hasPrefix("sloth: invalid cron expression") ? nil : "\(expr) not refused"
        }
        #expect(failures.compactMap { $0 } == [])
    }

    /// Runs `body` over `items` four at a time: one process per row, as a user would.
    static func parallelMap<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
        try await withThrowingTaskGroup(of: (Int, R).self) { group in
            var results = [R?](repeating: nil, count: items.count)
            var next = 0
            for _ in 0..<min(4, items.count) {
                let index = next
                group.addTask { (index, try await body(items[index])) }
                next += 1
            }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < items.count {
                    let index = next
                    group.addTask { (index, try await body(items[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}
