import Foundation

/// Masks the secret values a run has read as `***` in everything stored or printed for it (SPEC
/// section 5): log lines, errors, outputs. Log lines are a stream, and a secret may be cut across
/// consecutive lines (a multi-line key printed line by line, or a value logged in pieces): a line that
/// ends with at least `minimumFragment` bytes of a secret's start is masked there, the lines that go
/// on with that secret are masked as far as they do, and a line starting with at least
/// `minimumFragment` bytes of a secret's end is masked there.
/// Job threads mask the lines their commands print while the run's thread reads secrets: one lock.
final class Redactor: @unchecked Sendable {
    static let mask = "***"
    static let minimumFragment = 6
    private static let maskBytes = Array(mask.utf8)

    private var secrets: [[UInt8]] = []
    private var secretTexts: Set<String> = []
    /// Whole values, their JSON-escaped forms and the long lines of multi-line values, longest first.
    private var patterns: [[UInt8]] = []
    /// Per log stream: (secret, bytes of it seen so far) for each secret the last line ended inside.
    private var carries: [String: [(secret: Int, seen: Int)]] = [:]
    private let lock = NSRecursiveLock()

    var isEmpty: Bool { lock.withLock { secrets.isEmpty } }

    func add(_ secret: String) { lock.withLock { adding(secret) } }

    /// The values masked so far (handed to an agent with a delegated task, which masks them too).
    var values: [String] { lock.withLock { Array(secretTexts) } }

    private func adding(_ secret: String) {
        let bytes = Array(secret.utf8)
        guard !bytes.isEmpty, !secrets.contains(bytes) else { return }
        secrets.append(bytes)
        secretTexts.insert(secret)
        let escaped = String(LuaJSON.encode(.string(secret)).dropFirst().dropLast())
        let lines = secret.split(whereSeparator: \.isNewline).map(String.init).filter { $0.utf8.count >= Self.minimumFragment }
        patterns = Array(Set(patterns + ([secret, escaped] + lines).map { Array($0.utf8) })).sorted { $0.count > $1.count }
    }

    /// A value stored or printed whole.
    func redact(_ text: String) -> String { lock.withLock { masking(text) } }

    private func masking(_ text: String) -> String {
        guard !patterns.isEmpty else { return text }
        return String(decoding: maskWhole(Array(text.utf8)[...]).masked, as: UTF8.self)
    }

    /// Every string in a value (keys included), and numbers that spell a secret.
    func redact(_ value: LuaValue) -> LuaValue { lock.withLock { masking(value) } }

    private func masking(_ value: LuaValue) -> LuaValue {
        guard !patterns.isEmpty else { return value }
        switch value {
        case .string(let text): return .string(masking(text))
        case .integer, .number: return secretTexts.contains(value.string ?? "") ? .string(Self.mask) : value
        case .table(let table):
            return .table(LuaTable(array: table.array.map(masking),
                                   fields: Dictionary(table.fields.map { (masking($0.key), masking($0.value)) }) { first, _ in first }))
        default: return value
        }
    }

    /// One log line of `stream` (a task, or the run itself).
    func redactLine(_ text: String, stream: String) -> String { lock.withLock { maskingLine(text, stream: stream) } }

    private func maskingLine(_ text: String, stream: String) -> String {
        guard !secrets.isEmpty else { return text }
        var line = Array(text.utf8)[...]
        if line.isEmpty { return text }  // an empty line inside a multi-line value keeps it open
        var head: [UInt8] = []
        var inside: [(secret: Int, seen: Int)] = []
        var longest = 0
        for carry in carries[stream] ?? [] {
            let rest = Self.droppingLineBreaks(secrets[carry.secret][carry.seen...])
            let shared = zip(line, rest).prefix { $0 == $1 }.count
            guard shared > 0, shared == rest.count || shared == line.count || shared >= Self.minimumFragment else { continue }
            if shared == line.count && shared < rest.count { inside.append((carry.secret, rest.startIndex + shared)) }
            longest = max(longest, shared)
        }
        if !inside.isEmpty {
            carries[stream] = inside
            return Self.mask
        }
        if longest > 0 { (head, line) = (Self.maskBytes, line.dropFirst(longest)) }
        if head.isEmpty, !patterns.contains(where: { line.starts(with: $0) }), let length = leadingSuffixLength(line) {
            (head, line) = (Self.maskBytes, line.dropFirst(length))
        }
        let (masked, matches, lastEnd) = maskWhole(line)
        var (cut, openings) = trailingPrefix(line[lastEnd...])
        carries[stream] = openings
        // A masked match the opening cuts into is left out of the clear part whole.
        while let straddled = matches.first(where: { $0.lowerBound < cut && $0.upperBound > cut }) { cut = straddled.lowerBound }
        let body = cut == line.endIndex ? masked : maskWhole(line[..<cut]).masked + Self.maskBytes
        return String(decoding: head + body, as: UTF8.self)
    }

    private static func droppingLineBreaks(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes.drop { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }
    }

    /// Every whole occurrence of a pattern masked, the ranges masked, and where the last whole secret
    /// value ended (a line of a multi-line value may still open a value cut across lines).
    private func maskWhole(_ line: ArraySlice<UInt8>) -> (masked: [UInt8], matches: [Range<Int>], lastEnd: Int) {
        var masked: [UInt8] = []
        masked.reserveCapacity(line.count)
        var matches: [Range<Int>] = []
        var (index, lastEnd) = (line.startIndex, line.startIndex)
        scan: while index < line.endIndex {
            for pattern in patterns where line[index] == pattern[0] && line[index...].starts(with: pattern) {
                masked += Self.maskBytes
                matches.append(index..<index + pattern.count)
                index += pattern.count
                if secrets.contains(pattern) { lastEnd = index }
                continue scan
            }
            masked.append(line[index])
            index += 1
        }
        return (masked, matches, lastEnd)
    }

    /// How many bytes of the line's start are the last `minimumFragment` or more bytes of a secret (the
    /// most over all secrets).
    private func leadingSuffixLength(_ line: ArraySlice<UInt8>) -> Int? {
        var found: Int?
        for secret in secrets where secret.count > Self.minimumFragment {
            let longest = min(line.count, secret.count - 1)
            guard longest > max(found ?? 0, Self.minimumFragment - 1) else { continue }
            for length in stride(from: longest, through: max(found ?? 0, Self.minimumFragment - 1) + 1, by: -1)
            where line.starts(with: secret.suffix(length)) {
                found = length
                break
            }
        }
        return found
    }

    /// Where the line's end starts being the first `minimumFragment` or more bytes of secrets, and every
    /// such opening (secret, bytes of it seen), to carry over to the stream's next line.
    private func trailingPrefix(_ line: ArraySlice<UInt8>) -> (cut: Int, openings: [(secret: Int, seen: Int)]) {
        var openings: [(secret: Int, seen: Int)] = []
        var cut = line.endIndex
        guard line.count >= Self.minimumFragment else { return (cut, []) }
        for (index, secret) in secrets.enumerated() where secret.count > Self.minimumFragment {
            let lowest = max(line.startIndex, line.endIndex - (secret.count - 1))
            for start in lowest...(line.endIndex - Self.minimumFragment) where line[start] == secret[0] && secret.starts(with: line[start...]) {
                openings.append((index, line.endIndex - start))
                cut = min(cut, start)
            }
        }
        return (cut, openings)
    }
}

extension Redactor {
    /// A run that failed before it started: its message may quote what the file's top level read.
    func redact(_ error: RunnerError) -> RunnerError {
        switch error {
        case .invalidFile(let message): .invalidFile(redact(message))
        case .invalidWorkflow(let message): .invalidWorkflow(redact(message))
        default: error
        }
    }

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
