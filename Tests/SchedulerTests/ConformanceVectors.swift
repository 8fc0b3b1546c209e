import Foundation

/// The cron vectors of ../shared/conformance (beside the repository, as in CI).
enum ConformanceVectors {
    struct Next: Decodable, CustomStringConvertible {
        let expr: String
        let tz: String
        let from: String
        let next: [String]
        let category: String
        var description: String { "\(expr) [\(tz)] from \(from) (\(category))" }
    }

    struct Expression: Decodable, CustomStringConvertible {
        let expr: String
        let category: String?
        var description: String { expr }
    }

    static let directory: URL = {
        if let dir = ProcessInfo.processInfo.environment["SLOTH_CONFORMANCE_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()

    static func rows<T: Decodable>(_ file: String, as type: T.Type) -> [T] {
        let url = directory.appendingPathComponent(file)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            fatalError("conformance vectors missing at \(url.path): clone the project beside shared/ or set SLOTH_CONFORMANCE_DIR")
        }
        return text.split(separator: "\n").map { try! JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    static let next = rows("cron-next.jsonl", as: Next.self)
    static let accept = rows("cron-accept.jsonl", as: Expression.self)

    /// Rows of cron-reject.jsonl that contradict SPEC section 6 (which accepts `nL` and `L-n`); the first
    /// also appears in cron-accept.jsonl. SPEC is the contract, so these parse.
    static let rejectRowsContradictingSpec: Set<String> = ["0 0 * * 5L", "0 0 L-3 * *"]
    static let reject = rows("cron-reject.jsonl", as: Expression.self).filter { !rejectRowsContradictingSpec.contains($0.expr) }
}
