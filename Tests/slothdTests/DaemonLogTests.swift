import Synchronization
import Testing
@testable import SlothdCore
import Catalog

/// The daemon's log: one line per event, journald priorities when JOURNAL_STREAM is set.
@Suite("The daemon's log lines")
struct DaemonLogTests {
    final class Lines: Sendable {
        let collected = Mutex<[String]>([])
        var all: [String] { collected.withLock { $0 } }
    }

    @Test("a run's end: info when it succeeded or was cancelled, warning otherwise, with duration and error", arguments: [
        ("succeeded", nil, nil, "<6>run 7 (workflow backup, schedule nightly) succeeded after 1.250s\n"),
        ("cancelled", "run cancelled", nil, "<6>run 7 (workflow backup, schedule nightly) cancelled after 1.250s: run cancelled\n"),
        ("failed", "t: exit status 4", nil, "<4>run 7 (workflow backup, schedule nightly) failed after 1.250s: t: exit status 4\n"),
        ("timed_out", "timed out after 1 s", nil, "<4>run 7 (workflow backup, schedule nightly) timed_out after 1.250s: timed out after 1 s\n"),
        ("interrupted", "slothd stopped", "manual", "<4>run 7 (workflow backup) interrupted after 1.250s: slothd stopped\n"),
    ] as [(String, String?, String?, String)])
    func runEnded(state: String, error: String?, manual: String?, line: String) {
        let lines = Lines()
        let log = DaemonLog(journal: true) { text in lines.collected.withLock { $0.append(text) } }
        log.runEnded(7, workflow: "backup", schedule: manual == nil ? "nightly" : nil, state: RunState(rawValue: state)!, duration: .milliseconds(1250), error: error)
        #expect(lines.all == [line])
    }

    @Test("a message of several lines stays one line; without journald the prefix is the program's name")
    func oneLinePerEvent() {
        let lines = Lines()
        let log = DaemonLog(journal: false) { text in lines.collected.withLock { $0.append(text) } }
        log.error("refused:\nthe queue is full\r\n(1000 waiting)")
        #expect(lines.all == ["slothd: refused: the queue is full (1000 waiting)\n"])
    }
}
