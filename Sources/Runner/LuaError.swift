/// A Lua failure, located at the chunk's file and line when Lua reported one.
public enum LuaError: Error, Equatable, Sendable, CustomStringConvertible {
    case syntax(Location, message: String)
    case runtime(Location, message: String, traceback: String)
    case memoryLimit
    case cancelled
    case cannotCreateState

    public struct Location: Equatable, Sendable, CustomStringConvertible {
        public let file: String?
        public let line: Int?
        public init(file: String?, line: Int?) {
            self.file = file
            self.line = line
        }
        public var description: String {
            switch (file, line) {
            case let (file?, line?): "\(file):\(line)"
            case let (file?, nil): file
            default: "?"
            }
        }
    }

    public var description: String {
        switch self {
        case .syntax(let at, let message): "\(at): \(message)"
        case .runtime(let at, let message, _): "\(at): \(message)"
        case .memoryLimit: "memory limit exceeded"
        case .cancelled: "run cancelled"
        case .cannotCreateState: "cannot create a Lua state (out of memory)"
        }
    }

    /// Splits Lua's `file:line: message` text (the traceback after the first newline, if any).
    static func split(_ text: String) -> (Location, message: String, traceback: String) {
        let headline = text.prefix { $0 != "\n" }
        let traceback = String(text.dropFirst(headline.count).drop { $0 == "\n" })
        let parts = headline.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count == 3, let line = Int(parts[1]) {
            let message = parts[2].drop { $0 == " " }
            return (Location(file: String(parts[0]), line: line), String(message), traceback)
        }
        return (Location(file: nil, line: nil), String(headline), traceback)
    }
}
