import Foundation

/// One line per event on stderr, with `<N>` syslog priorities when journald reads the stream.
struct DaemonLog: Sendable {
    let journal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil

    func info(_ message: String) { write(6, message) }
    func warn(_ message: String) { write(4, message) }
    func error(_ message: String) { write(3, message) }

    private func write(_ priority: Int, _ message: String) {
        let line = journal ? "<\(priority)>\(message)\n" : "slothd: \(message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
