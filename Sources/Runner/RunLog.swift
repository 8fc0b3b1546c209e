import Catalog
import Foundation

/// The log of one run: each line is echoed for people (time, level, task, message, fields) and kept
/// for the run history. The run's thread writes its own lines; job threads write what their commands
/// print (tagged with the stream), so every change happens under one lock.
public final class RunLog: @unchecked Sendable {
    public enum Level: String, CaseIterable, Comparable, Sendable {
        case debug, info, warn, error
        public static func < (a: Level, b: Level) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    /// What the echo shows.
    public struct Echo: Sendable {
        public var level: Level
        /// Lines the run's commands print (hidden by `--quiet`).
        public var jobOutput: Bool
        public init(level: Level = .info, jobOutput: Bool = true) { (self.level, self.jobOutput) = (level, jobOutput) }
    }

    private let echo: (@Sendable (String) -> Void)?
    private let shown: Echo
    private let now: () -> Int64
    private let lock = NSLock()
    /// Keeps batches in order when two threads hand theirs over at once.
    private let flushLock = NSLock()
    private var pending: [RunStore.LogLine] = []
    private var sinkTarget: (([RunStore.LogLine]) -> Void)?
    private var oldestPendingAt: Int64 = 0
    /// Secrets the run has read are masked before a line is echoed or kept.
    let redactor = Redactor()
    static let flushLines = 200
    static let flushMillis: Int64 = 250
    /// Bytes of log a run keeps unless configured otherwise (SPEC section 5).
    public static let defaultCapBytes = 16 << 20
    private var cap = RunLog.defaultCapBytes
    private var keptBytes = 0
    private var dropped = (lines: 0, bytes: 0)

    /// - Parameters:
    ///   - echo: where human lines go (stderr for the CLI), or nil.
    ///   - shown: which lines are echoed (all are stored).
    public init(echo: (@Sendable (String) -> Void)?, shown: Echo = Echo(),
                now: @escaping () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.echo = echo
        self.shown = shown
        self.now = now
    }

    /// Past this many bytes of messages and fields, lines are dropped and counted.
    var capBytes: Int {
        get { lock.withLock { cap } }
        set { lock.withLock { cap = newValue } }
    }

    /// Where the daemon stores lines while the run goes on. Lines are handed over in batches (one
    /// transaction each): before the run blocks, while it computes once enough lines or time piled up,
    /// and from a job's thread as its command prints.
    var sink: (([RunStore.LogLine]) -> Void)? {
        get { lock.withLock { sinkTarget } }
        set { lock.withLock { sinkTarget = newValue } }
    }

    var hasPending: Bool { lock.withLock { !pending.isEmpty } }

    func write(level: Level, task: String?, message: String, fields: LuaTable? = nil) {
        let due = lock.withLock {
            append(level: level, task: task, stream: nil, maskingAs: task ?? "", message: message, fields: fields, at: now())
        }
        if due { flush() }
    }

    /// Lines one of a job's streams printed, under one lock (a command may print thousands at once).
    func write(jobLines lines: [String], task: String?, stream: String) {
        let due = lock.withLock {
            let (at, key) = (now(), "\(task ?? "")/\(stream)")
            return lines.reduce(false) { due, line in
                append(level: .info, task: task, stream: stream, maskingAs: key, message: line, fields: nil, at: at) || due
            }
        }
        if due { flush() }
    }

    /// Lines an agent's task logged (one batch per flush there): job output keeps its stream, the
    /// run's masking applies as well, and the batch goes to the sink at once, so it is live here too.
    func write(delegated lines: [DelegatedLogLine], task: String) {
        for line in lines {
            if let stream = line.stream {
                write(jobLines: [line.message], task: task, stream: stream)
            } else {
                let fields = line.fieldsJSON.flatMap { try? LuaJSON.decode($0) }?.table
                write(level: Level(rawValue: line.level) ?? .info, task: task, message: line.message, fields: fields)
            }
        }
        flush()
    }

    /// Under the lock: masks (a secret cut across lines is followed per `maskingAs` stream), keeps or
    /// counts past the cap, echoes; true when the batch should go to the sink.
    private func append(level: Level, task: String?, stream: String?, maskingAs key: String, message unmasked: String,
                        fields unmaskedFields: LuaTable?, at: Int64) -> Bool {
        let message = redactor.redactLine(unmasked, stream: key)
        let fields = unmaskedFields.flatMap { redactor.redact(.table($0)).table }
        let fieldsText = fields.map { LuaJSON.encode(.table($0)) }
        let size = message.utf8.count + (fieldsText?.utf8.count ?? 0)
        var due = false
        if keptBytes + size > cap {
            if dropped.lines == 0 {
                due = keep(RunStore.LogLine(at: at, level: "warn", task: nil,
                                            message: "log cap of \(Self.mebibytes(cap)) reached: further lines are dropped and counted",
                                            fieldsJSON: nil))
            }
            dropped = (dropped.lines + 1, dropped.bytes + size)
        } else {
            keptBytes += size
            due = keep(RunStore.LogLine(at: at, level: level.rawValue, task: task, stream: stream, message: message, fieldsJSON: fieldsText))
        }
        if let echo, level >= shown.level, stream == nil || shown.jobOutput {
            echo(Self.text(at: at, level: level, task: task, stream: stream, message: message, fields: fields))
        }
        return due
    }

    /// `12:00:01.123 INFO  [task] message k=v`; a job's lines show their stream (OUT, ERR) where the level goes.
    static func text(at: Int64, level: Level, task: String?, stream: String?, message: String, fields: LuaTable?) -> String {
        let tag = column(level: level.rawValue, stream: stream)
        let pairs = (fields?.fields ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(LuaJSON.encode($0.value))" }
        let context = task.map { "[\($0)] " } ?? ""
        return ([clockText(millis: at), tag, context + message] + pairs).joined(separator: " ")
    }

    /// The level column of a log line, five wide: `INFO `, or `OUT  `/`ERR  ` for what a job printed.
    public static func column(level: String, stream: String?) -> String {
        (stream.map { $0 == "stderr" ? "ERR" : "OUT" } ?? level.uppercased()).padding(toLength: 5, withPad: " ", startingAt: 0)
    }

    /// `HH:MM:SS.mmm` in the host's zone, with libc: Foundation's formatters load ICU, which costs
    /// more than a whole short run.
    static func clockText(millis: Int64) -> String {
        var seconds = time_t(millis / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let pad = RunDocument.zeroPadded
        return "\(pad(Int64(parts.tm_hour), 2)):\(pad(Int64(parts.tm_min), 2)):\(pad(Int64(parts.tm_sec), 2)).\(pad(millis % 1000, 3))"
    }

    /// Under the lock: true when the batch should go to the sink now.
    private func keep(_ line: RunStore.LogLine) -> Bool {
        if pending.isEmpty { oldestPendingAt = line.at }
        pending.append(line)
        return pending.count >= Self.flushLines || line.at - oldestPendingAt >= Self.flushMillis
    }

    static func mebibytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }

    /// The last lines of the run, with what the cap dropped said at the end.
    func close() -> [RunStore.LogLine] {
        flushLock.withLock {
            lock.withLock {
                if dropped.lines > 0 {
                    pending.append(RunStore.LogLine(at: now(), level: "warn", task: nil,
                                                    message: "log truncated: \(dropped.lines) line(s), \(dropped.bytes) bytes dropped past the \(Self.mebibytes(cap)) cap (run_log_limit)",
                                                    fieldsJSON: nil))
                    dropped = (0, 0)
                }
                return takePending()
            }
        }
    }

    /// Hands the pending lines to the sink, if there is one.
    func flush() {
        flushLock.withLock {
            let (target, batch) = lock.withLock { (sinkTarget, sinkTarget == nil ? [] : takePending()) }
            if let target, !batch.isEmpty { target(batch) }
        }
    }

    /// Hands over the lines written since the last call.
    func drain() -> [RunStore.LogLine] { flushLock.withLock { lock.withLock { takePending() } } }

    private func takePending() -> [RunStore.LogLine] {
        defer { pending.removeAll() }
        return pending
    }
}
