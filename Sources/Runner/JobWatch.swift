import Foundation

/// The three pipes between slothd and a job: the job's ends become its 0, 1 and 2; slothd's ends are
/// non-blocking. Every descriptor is close-on-exec, so no other child inherits them.
struct JobPipes {
    let childInput: Int32, childOutput: Int32, childError: Int32
    /// -1 when the job reads /dev/null.
    let input: Int32
    let output: Int32, error: Int32

    init?(feedsInput: Bool) {
        func pair() -> (read: Int32, write: Int32)? { ProcessSpawner.pipe() }
        guard let out = pair() else { return nil }
        guard let err = pair() else { close(out.read); close(out.write); return nil }
        let stdin: (read: Int32, write: Int32)?
        if feedsInput {
            stdin = pair()
        } else {
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            stdin = null >= 0 ? (null, -1) : nil
        }
        guard let stdin else { [out.read, out.write, err.read, err.write].forEach { close($0) }; return nil }
        (childInput, childOutput, childError) = (stdin.read, out.write, err.write)
        (input, output, error) = (stdin.write, out.read, err.read)
        for descriptor in [input, output, error] where descriptor >= 0 {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
    }

    func closeChildEnds() { [childInput, childOutput, childError].forEach { close($0) } }
    func closeAll() {
        closeChildEnds()
        [input, output, error].filter { $0 >= 0 }.forEach { close($0) }
    }
}

/// Feeds a started job its input, hands what it prints to the run's log as it arrives, collects it for
/// the result up to a limit and waits for the job to end, stopping its whole process group on
/// cancellation or timeout (SIGTERM, then SIGKILL after the grace period).
struct JobWatch {
    enum End: Equatable {
        case exited(Int32), signaled(Int32), timedOut(Int64), cancelled
    }

    struct Outcome {
        var end: End
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
    }

    let pid: pid_t
    let io: JobPipes
    let input: [UInt8]
    let limit: Int
    let stop: StopSignal
    let timeoutMillis: Int64?
    let graceSeconds: Double
    let output: JobOutput?

    func run() -> Outcome {
        let exitDescriptor = ProcessSpawner.pidDescriptor(pid)
        defer { if let exitDescriptor { close(exitDescriptor) } }
        var streams = [Stream(descriptor: io.output), Stream(descriptor: io.error)]
        var inputDescriptor = io.input, inputOffset = 0
        if inputDescriptor >= 0 && input.isEmpty { close(inputDescriptor); inputDescriptor = -1 }
        let deadline = timeoutMillis.map { LuaState.monotonicMillis() + $0 }
        var stopping: (reason: End, killAt: Int64)?
        var status: Int32?
        while true {
            if status == nil { status = reap(blocking: false) }
            if status != nil {
                for index in streams.indices { streams[index].drain(limit: limit) { hand($0, index) } }
                break
            }
            let now = LuaState.monotonicMillis()
            if stopping == nil, let deadline, now >= deadline {
                stopping = (.timedOut(timeoutMillis ?? 0), now + Int64(graceSeconds * 1000))
                kill(-pid, SIGTERM)
            }
            if let current = stopping, now >= current.killAt {
                kill(-pid, SIGKILL)
                stopping = (current.reason, .max)
            }
            var watched: [pollfd] = streams.filter(\.open).map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            if inputDescriptor >= 0 { watched.append(pollfd(fd: inputDescriptor, events: Int16(POLLOUT), revents: 0)) }
            if let exitDescriptor { watched.append(pollfd(fd: exitDescriptor, events: Int16(POLLIN), revents: 0)) }
            if stopping == nil { watched.append(pollfd(fd: stop.readEnd, events: Int16(POLLIN), revents: 0)) }
            var wait = exitDescriptor == nil ? 20 : -1
            if let deadline, stopping == nil { wait = Self.sooner(wait, deadline - now) }
            if let killAt = stopping?.killAt, killAt != .max { wait = Self.sooner(wait, killAt - now) }
            if let flushAt = output?.flushDeadline { wait = Self.sooner(wait, flushAt - now) }
            _ = poll(&watched, nfds_t(watched.count), Int32(clamping: wait))
            for index in streams.indices where streams[index].open { streams[index].read(limit: limit) { hand($0, index) } }
            output?.flushIfDue(now: LuaState.monotonicMillis())
            if inputDescriptor >= 0 { feed(&inputDescriptor, &inputOffset) }
            if stopping == nil && stop.fired {
                stopping = (.cancelled, LuaState.monotonicMillis() + Int64(graceSeconds * 1000))
                kill(-pid, SIGTERM)
            }
        }
        if inputDescriptor >= 0 { close(inputDescriptor) }
        streams.forEach { close($0.descriptor) }
        for index in streams.indices { output?.noteDropped(streams[index].dropped, stream: index, limit: limit) }
        output?.finish()
        let code = status ?? 0
        let end: End = stopping?.reason ?? ((code & 0x7f) == 0 ? .exited((code >> 8) & 0xff) : .signaled(code & 0x7f))
        return Outcome(end: end, stdout: streams[0].bytes, stderr: streams[1].bytes)
    }

    private func hand(_ bytes: ArraySlice<UInt8>, _ stream: Int) {
        output?.received(bytes, stream: stream, now: LuaState.monotonicMillis())
    }

    private func reap(blocking: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if reaped == pid { return status }
            if reaped < 0 && errno == EINTR { continue }
            // No such child (reaped elsewhere): its status is unknown, so it is no success (exit 255).
            return reaped < 0 ? 255 << 8 : nil
        }
    }

    private func feed(_ descriptor: inout Int32, _ offset: inout Int) {
        let written = input[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written > 0 { offset += written }
        if offset >= input.count || (written < 0 && errno != EAGAIN && errno != EINTR) {
            close(descriptor)
            descriptor = -1
        }
    }

    private static func sooner(_ wait: Int, _ millis: Int64) -> Int {
        let bounded = Int(max(0, min(millis, Int64(Int32.max))))
        return wait < 0 ? bounded : min(wait, bounded)
    }

    /// One of the job's output pipes; what passes the limit is read, handed on and counted, not kept.
    struct Stream {
        let descriptor: Int32
        var open = true
        var bytes: [UInt8] = []
        var dropped = 0
        private var chunk = [UInt8](repeating: 0, count: 65536)

        init(descriptor: Int32) { self.descriptor = descriptor }

        /// One read; true if it got bytes.
        @discardableResult
        mutating func read(limit: Int, _ received: (ArraySlice<UInt8>) -> Void) -> Bool {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                let kept = max(0, min(count, limit - bytes.count))
                bytes += chunk.prefix(kept)
                dropped += count - kept
                received(chunk.prefix(count))
                return true
            }
            if count == 0 || (errno != EAGAIN && errno != EINTR) { open = false }
            return false
        }

        /// What is already in the pipe, without waiting for writers that outlive the leader.
        mutating func drain(limit: Int, _ received: (ArraySlice<UInt8>) -> Void) {
            for _ in 0..<256 where open {
                if !read(limit: limit, received) { return }
            }
        }
    }
}
