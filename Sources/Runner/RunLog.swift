import Catalog
import Foundation

/// The log of one run: each line is echoed for people (time, level, task, message, fields) and kept
/// for the run history.
public final class RunLog {
    public enum Level: String, CaseIterable, Comparable, Sendable {
        case debug, info, warn, error
        public static func < (a: Level, b: Level) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    private let echo: (@Sendable (String) -> Void)?
    private let echoLevel: Level
    private let now: () -> Int64
    private(set) var pending: [RunStore.LogLine] = []
    /// Where the daemon stores lines while the run goes on. Lines are handed over in batches (one
    /// transaction each): before the run blocks, and while it computes once enough lines or time piled up.
    var sink: (([RunStore.LogLine]) -> Void)?
    private var oldestPendingAt: Int64 = 0
    /// Secrets the run has read are masked before a line is echoed or kept.
    let redactor = Redactor()
    static let flushLines = 200
    static let flushMillis: Int64 = 250
    /// Bytes of log a run keeps unless configured otherwise (SPEC section 5).
    public static let defaultCapBytes = 16 << 20
    /// Past this many bytes of messages and fields, lines are dropped and counted.
    var capBytes = RunLog.defaultCapBytes
    private var keptBytes = 0
    private var dropped = (lines: 0, bytes: 0)

    /// - Parameters:
    ///   - echo: where human lines go (stderr for the CLI), or nil.
    ///   - echoLevel: lines below it are stored but not echoed.
    public init(echo: (@Sendable (String) -> Void)?, echoLevel: Level = .info,
                now: @escaping () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.echo = echo
        self.echoLevel = echoLevel
        self.now = now
    }

    func write(level: Level, task: String?, message unmasked: String, fields unmaskedFields: LuaTable?) {
        let at = now()
        let message = redactor.redactLine(unmasked, stream: task ?? "")
        let fields = unmaskedFields.flatMap { redactor.redact(.table($0)).table }
        let fieldsText = fields.map { LuaJSON.encode(.table($0)) }
        let size = message.utf8.count + (fieldsText?.utf8.count ?? 0)
        if keptBytes + size > capBytes {
            if dropped.lines == 0 {
                keep(RunStore.LogLine(at: at, level: "warn", task: nil,
                                      message: "log cap of \(Self.mebibytes(capBytes)) reached: further lines are dropped and counted",
                                      fieldsJSON: nil))
            }
            dropped = (dropped.lines + 1, dropped.bytes + size)
        } else {
            keptBytes += size
            keep(RunStore.LogLine(at: at, level: level.rawValue, task: task, message: message, fieldsJSON: fieldsText))
        }
        guard let echo, level >= echoLevel else { return }
        let time = Self.clockText(millis: at)
        let levelText = level.rawValue.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)
        let pairs = (fields?.fields ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(LuaJSON.encode($0.value))" }
        let context = task.map { "[\($0)] " } ?? ""
        echo(([time, levelText, context + message] + pairs).joined(separator: " "))
    }

    /// `HH:MM:SS.mmm` in the host's zone, with libc: Foundation's formatters load ICU, which costs
    /// more than a whole short run.
    static func clockText(millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(format: "%02d:%02d:%02d.%03d", parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(millis % 1000))
    }

    private func keep(_ line: RunStore.LogLine) {
        if pending.isEmpty { oldestPendingAt = line.at }
        pending.append(line)
        if pending.count >= Self.flushLines || line.at - oldestPendingAt >= Self.flushMillis { flush() }
    }

    static func mebibytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// The last lines of the run, with what the cap dropped said at the end.
    func close() -> [RunStore.LogLine] {
        if dropped.lines > 0 {
            pending.append(RunStore.LogLine(at: now(), level: "warn", task: nil,
                                            message: "log truncated: \(dropped.lines) line(s), \(dropped.bytes) bytes dropped past the \(Self.mebibytes(capBytes)) cap (run_log_limit)",
                                            fieldsJSON: nil))
            dropped = (0, 0)
        }
        return drain()
    }

    /// Hands the pending lines to the sink, if there is one.
    func flush() {
        guard let sink, !pending.isEmpty else { return }
        sink(drain())
    }

    /// Hands over the lines written since the last call.
    func drain() -> [RunStore.LogLine] {
        defer { pending.removeAll() }
        return pending
    }
}
