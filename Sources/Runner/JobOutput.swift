/// What one command prints, cut into lines for the run's log as it arrives (SPEC section 5): each line
/// is tagged with the task and the stream, and batches go to the database at most `flushMillis` after
/// their first line, so a follower sees a line about as soon as it is printed. Used by the job's thread.
final class JobOutput {
    static let streams = ["stdout", "stderr"]
    /// A line longer than this is logged in pieces of this size.
    static let maxLineBytes = 16 << 10
    static let flushMillis: Int64 = 25

    private let log: RunLog
    private let task: String?
    private var partial: [[UInt8]] = [[], []]
    /// Monotonic time by which the lines written so far must be handed to the sink.
    private(set) var flushDeadline: Int64?

    init(log: RunLog, task: String?) {
        self.log = log
        self.task = task
    }

    /// Bytes read from stream 0 (stdout) or 1 (stderr).
    func received(_ bytes: ArraySlice<UInt8>, stream: Int, now: Int64) {
        var lines: [String] = []
        var rest = bytes
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(line(ending: rest[..<newline], stream: stream))
            rest = rest[(newline + 1)...]
        }
        partial[stream] += rest
        while partial[stream].count >= Self.maxLineBytes {
            lines.append(String(decoding: partial[stream].prefix(Self.maxLineBytes), as: UTF8.self))
            partial[stream].removeFirst(Self.maxLineBytes)
        }
        guard !lines.isEmpty else { return }
        log.write(jobLines: lines, task: task, stream: Self.streams[stream])
        if flushDeadline == nil, log.hasPending { flushDeadline = now + Self.flushMillis }
    }

    /// Hands the lines over once their time has come.
    func flushIfDue(now: Int64) {
        guard let deadline = flushDeadline, now >= deadline else { return }
        log.flush()
        flushDeadline = nil
    }

    /// The command ended: its unfinished last lines are logged, and everything goes to the sink.
    func finish() {
        for stream in partial.indices where !partial[stream].isEmpty {
            log.write(jobLines: [line(ending: [][...], stream: stream)], task: task, stream: Self.streams[stream])
        }
        log.flush()
        flushDeadline = nil
    }

    /// What did not fit the result table went to the log only, up to the run's cap: say so once.
    func noteDropped(_ bytes: Int, stream: Int, limit: Int) {
        guard bytes > 0 else { return }
        log.write(level: .warn, task: task,
                  message: "\(Self.streams[stream]) past \(RunLog.mebibytes(limit)): \(bytes) bytes not kept in the command's result (its lines went to the log, up to the run's cap)")
    }

    /// The stream's pending bytes and `end` as one line, without its CR; the pending bytes are used up.
    private func line(ending end: ArraySlice<UInt8>, stream: Int) -> String {
        defer { partial[stream].removeAll(keepingCapacity: true) }
        var whole = partial[stream].isEmpty ? end : (partial[stream] + end)[...]
        if whole.last == UInt8(ascii: "\r") { whole = whole.dropLast() }
        return String(decoding: whole, as: UTF8.self)
    }
}
