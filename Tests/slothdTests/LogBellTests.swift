import Testing
@testable import SlothdCore

/// A follower that waits on the bell must never miss its run's ring, whatever the order of events.
@Suite("The log bell")
struct LogBellTests {
    /// A minute is "never" here: a missed ring would make the wait run out instead of returning. The
    /// bound is loose because the whole suite shares two cores.
    private static let never = Duration.seconds(60)

    private func returnsPromptly(_ wait: @escaping @Sendable () async -> Void) async {
        let clock = ContinuousClock(), start = clock.now
        await wait()
        #expect(clock.now - start < .seconds(30))
    }

    @Test("a ring after the follower noted the generation wakes it at once, also when the run was forgotten since",
          arguments: [false, true])
    func ringBeforeWait(forgotten: Bool) async {
        let bell = LogBell()
        let seen = bell.generation
        bell.ring(7)
        if forgotten { bell.forget(7) }
        await returnsPromptly { await bell.wait(7, after: seen, upTo: Self.never) }
    }

    @Test("a ring of its run while the follower waits (or just before) wakes it")
    func ringWhileWaiting() async {
        let bell = LogBell()
        let seen = bell.generation
        bell.ring(8)
        async let waited: Void = returnsPromptly { await bell.wait(7, after: seen, upTo: Self.never) }
        bell.ring(7)
        await waited
    }

    @Test("with no ring the wait ends at its limit")
    func limit() async {
        let bell = LogBell()
        await bell.wait(7, after: bell.generation, upTo: .milliseconds(50))
    }
}
