import Foundation
import Runner
import Synchronization

/// What `agent run` commands print, kept on the master for the CLI's long polls (like `runs logs
/// --follow`): a reader waits for the next chunk or the exit without polling. Output past
/// `capBytes` is dropped (the page says so); a finished command is forgotten after `keepMillis`.
public final class AgentCommandOutputs: Sendable {
    public static let capBytes = 4 << 20
    static let keepMillis: Int64 = 600_000

    public struct Page: Sendable {
        public var chunks: [(stderr: Bool, text: String)]
        public var next: Int
        public var finished: Bool
        public var exitCode: Int?
        public var error: String?
    }

    private struct Entry {
        var chunks: [(stderr: Bool, text: String)] = []
        var bytes = 0
        var finished = false
        var exitCode: Int?
        var error: String?
        var finishedAt: Int64?
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters whose deadline passed before they were registered.
        var expired: Set<UInt64> = []
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let nextWaiter = Atomic<UInt64>(1)
    private let hub: AgentHub

    public init(hub: AgentHub) { self.hub = hub }

    /// Starts `command` on `agent`; nil when that agent is not connected.
    public func start(agent: String, command: String, timeoutMillis: Int64) -> String? {
        let id = UUID().uuidString
        forgetOld()
        entries.withLock { $0[id] = Entry() }
        let sent = hub.runCommand(on: agent, command, timeoutMillis: timeoutMillis, output: { [weak self] stderr, bytes in
            self?.update(id) { entry in
                guard entry.bytes < Self.capBytes else { return }
                entry.bytes += bytes.count
                entry.chunks.append((stderr, String(decoding: bytes, as: UTF8.self)))
            }
        }, exit: { [weak self] code, error in
            self?.update(id) { entry in
                (entry.finished, entry.exitCode, entry.error, entry.finishedAt) = (true, code, error, LuaState.monotonicMillis())
            }
        })
        guard sent else {
            entries.withLock { _ = $0.removeValue(forKey: id) }
            return nil
        }
        return id
    }

    /// Chunks from `after` on, waiting up to `waitMillis` for one when there is none yet; nil for an unknown id.
    public func page(_ id: String, after: Int, waitMillis: Int) async -> Page? {
        let deadline = ContinuousClock.now + .milliseconds(waitMillis)
        while true {
            guard let page = read(id, after: after) else { return nil }
            if !page.chunks.isEmpty || page.finished || ContinuousClock.now >= deadline { return page }
            await wait(id, after: after, until: deadline)
        }
    }

    private func read(_ id: String, after: Int) -> Page? {
        entries.withLock { entries in
            entries[id].map { entry in
                let start = min(max(0, after), entry.chunks.count)
                return Page(chunks: Array(entry.chunks[start...]), next: entry.chunks.count, finished: entry.finished,
                            exitCode: entry.exitCode, error: entry.error)
            }
        }
    }

    /// Returns when the entry has more than `after` chunks, has finished, or at the deadline.
    private func wait(_ id: String, after: Int, until deadline: ContinuousClock.Instant) async {
        let waiter = nextWaiter.add(1, ordering: .relaxed).newValue
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(until: deadline)) != nil else { return }
            self?.wake(id, only: waiter)
        }
        await withCheckedContinuation { continuation in
            let registered = entries.withLock { entries in
                guard let entry = entries[id], entry.chunks.count <= after, !entry.finished,
                      entries[id]?.expired.remove(waiter) == nil else { return false }
                entries[id]?.waiters[waiter] = continuation
                return true
            }
            if !registered { continuation.resume() }
        }
        timer.cancel()
    }

    private func update(_ id: String, _ change: (inout Entry) -> Void) {
        let waiting = entries.withLock { entries -> [CheckedContinuation<Void, Never>] in
            guard entries[id] != nil else { return [] }
            change(&entries[id]!)
            defer { entries[id]?.waiters.removeAll() }
            return Array(entries[id]!.waiters.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    private func wake(_ id: String, only waiter: UInt64) {
        entries.withLock { entries -> CheckedContinuation<Void, Never>? in
            guard let continuation = entries[id]?.waiters.removeValue(forKey: waiter) else {
                entries[id]?.expired.insert(waiter)
                return nil
            }
            return continuation
        }?.resume()
    }

    private func forgetOld() {
        let now = LuaState.monotonicMillis()
        entries.withLock { entries in
            for (id, entry) in entries where entry.waiters.isEmpty && (entry.finishedAt.map { now - $0 > Self.keepMillis } ?? false) {
                entries[id] = nil
            }
        }
    }
}
