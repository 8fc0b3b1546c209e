/// Masks the secret values a run has read as `***` in everything stored or printed for it (SPEC
/// section 5): log lines, errors, outputs. Log lines are a stream, and a secret may be cut across
/// consecutive lines (a multi-line key printed line by line, or a value logged in pieces): a line that
/// ends with at least `minimumFragment` bytes of a secret's start is masked there, and the lines that
/// go on with that secret are masked as far as they do.
final class Redactor {
    static let mask = "***"
    static let minimumFragment = 6

    private var secrets: [[UInt8]] = []
    /// Whole values and the long lines of multi-line values, longest first.
    private var patterns: [String] = []
    /// Per log stream: (secret, bytes of it seen so far) for each secret the last line ended inside.
    private var carries: [String: [(secret: Int, seen: Int)]] = [:]

    var isEmpty: Bool { secrets.isEmpty }

    func add(_ secret: String) {
        let bytes = Array(secret.utf8)
        guard !bytes.isEmpty, !secrets.contains(bytes) else { return }
        secrets.append(bytes)
        let lines = secret.split(whereSeparator: \.isNewline).map(String.init).filter { $0.utf8.count >= Self.minimumFragment }
        patterns = Array(Set(patterns + [secret] + lines)).sorted { $0.utf8.count > $1.utf8.count }
    }

    /// A value stored or printed whole.
    func redact(_ text: String) -> String {
        guard !patterns.isEmpty else { return text }
        var result = text
        for pattern in patterns where result.contains(pattern) {
            result = result.replacingOccurrences(of: pattern, with: Self.mask)
        }
        return result
    }

    /// Every string in a value (keys included).
    func redact(_ value: LuaValue) -> LuaValue {
        guard !patterns.isEmpty else { return value }
        switch value {
        case .string(let text): return .string(redact(text))
        case .table(let table):
            return .table(LuaTable(array: table.array.map(redact),
                                   fields: Dictionary(table.fields.map { (redact($0.key), redact($0.value)) }) { first, _ in first }))
        default: return value
        }
    }

    /// One log line of `stream` (a task, or the run itself).
    func redactLine(_ text: String, stream: String) -> String {
        guard !secrets.isEmpty else { return text }
        let mask = Array(Self.mask.utf8)
        var line = Array(text.utf8)[...]
        var head: [UInt8] = []
        for carry in carries[stream] ?? [] {
            var rest = secrets[carry.secret][carry.seen...]
            if rest.first == UInt8(ascii: "\n") { rest = rest.dropFirst() }
            if rest.isEmpty { continue }
            if line.starts(with: rest) {
                (head, line) = (mask, line.dropFirst(rest.count))
                break
            }
            if !line.isEmpty, rest.starts(with: line) {
                carries[stream] = [(carry.secret, rest.startIndex + line.count)]
                return Self.mask
            }
        }
        if head.isEmpty, let length = leadingSuffixLength(line) { (head, line) = (mask, line.dropFirst(length)) }
        let (cut, openings) = trailingPrefix(line)
        carries[stream] = openings
        let middle = redact(String(decoding: line[..<cut], as: UTF8.self))
        return String(decoding: head, as: UTF8.self) + middle + (cut < line.endIndex ? Self.mask : "")
    }

    /// How many bytes of the line's start are the last `minimumFragment` or more bytes of a secret.
    private func leadingSuffixLength(_ line: ArraySlice<UInt8>) -> Int? {
        for secret in secrets where secret.count > Self.minimumFragment {
            let longest = min(line.count, secret.count - 1)
            guard longest >= Self.minimumFragment else { continue }
            for length in stride(from: longest, through: Self.minimumFragment, by: -1) where line.starts(with: secret.suffix(length)) {
                return length
            }
        }
        return nil
    }

    /// Where the line's end starts being the first `minimumFragment` or more bytes of secrets, and those
    /// secrets with how much of each was seen (to carry over to the stream's next line).
    private func trailingPrefix(_ line: ArraySlice<UInt8>) -> (cut: Int, openings: [(secret: Int, seen: Int)]) {
        var openings: [(secret: Int, seen: Int)] = []
        var cut = line.endIndex
        guard line.count >= Self.minimumFragment else { return (cut, []) }
        for (index, secret) in secrets.enumerated() where secret.count > Self.minimumFragment {
            let lowest = max(line.startIndex, line.endIndex - (secret.count - 1))
            for start in lowest...(line.endIndex - Self.minimumFragment) where line[start] == secret[0] && secret.starts(with: line[start...]) {
                openings.append((index, line.endIndex - start))
                cut = min(cut, start)
                break
            }
        }
        return (cut, openings)
    }
}

extension Redactor {
    /// A run's outcome as it is stored and printed: errors, messages and outputs masked.
    func redact(_ report: RunReport) -> RunReport {
        guard !isEmpty else { return report }
        var masked = report
        masked.error = report.error.map(redact)
        masked.tasks = report.tasks.map { task in
            var task = task
            (task.error, task.message, task.output) = (task.error.map(redact), task.message.map(redact), redact(task.output))
            return task
        }
        return masked
    }
}
