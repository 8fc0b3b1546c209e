import Catalog
import Foundation
import Runner

/// One line per event on stderr, with `<N>` syslog priorities when journald reads the stream.
public struct DaemonLog: Sendable {
    let journal: Bool
    /// Where the lines go (stderr; tests collect them).
    private let sink: @Sendable (String) -> Void

    public init(journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil,
         sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        (self.journal, self.sink) = (journal, sink)
    }

    public func info(_ message: String) { write(6, message) }
    public func warn(_ message: String) { write(4, message) }
    public func error(_ message: String) { write(3, message) }

    /// How a run ended: info when it succeeded or was cancelled, warning when it failed, timed out or
    /// was interrupted (the run's trouble, not the daemon's).
    func runEnded(_ id: Int64, workflow: String, schedule: String?, state: RunState, duration: Duration, error: String?) {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        let origin = schedule.map { ", schedule \($0)" } ?? ""
        let line = "run \(id) (workflow \(workflow)\(origin)) \(state.rawValue) after \(RunDocument.duration(millis))"
            + (error.map { ": \($0)" } ?? "")
        [.succeeded, .cancelled].contains(state) ? info(line) : warn(line)
    }

    private func write(_ priority: Int, _ message: String) {
        // One event is one line, whatever the message holds (a multi-line error would read as several events).
        let text = message.contains("\n") ? message.split(whereSeparator: \.isNewline).joined(separator: " ") : message
        sink(journal ? "<\(priority)>\(text)\n" : "slothd: \(text)\n")
    }
}
