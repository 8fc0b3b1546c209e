import Scheduler
import Testing

/// The book's overlap state as a pure value: each step is a recorded fire or an ended run, and the
/// commands it answers are what the service carries out.
@Suite("Runs in flight and buffered fires")
struct ScheduleFlightsTests {
    enum Step: Sendable {
        case fire(Int64, FireAction)
        case end(Int64)
    }

    struct Row: CustomTestStringConvertible, Sendable {
        let name: String
        let steps: [Step]
        /// The commands of the last step.
        let commands: [ScheduleFlights.Command]
        let inFlight: InFlight
        var testDescription: String { name }
    }

    static func fire(_ id: Int64) -> ScheduleFlights.Fire { .init(runID: id, nominal: id, trigger: .schedule) }

    @Test("each step answers what the service must do", arguments: [
        Row(name: "a started fire is in flight", steps: [.fire(1, .start)], commands: [.start(fire(1), schedule: "s")],
            inFlight: InFlight(running: 1)),
        Row(name: "a buffered fire waits and starts when the run before it ends", steps: [.fire(1, .start), .fire(2, .buffer), .end(1)],
            commands: [.start(fire(2), schedule: "s")], inFlight: InFlight(running: 1)),
        Row(name: "a buffer does not start while another run is still in flight",
            steps: [.fire(1, .start), .fire(2, .start), .fire(3, .buffer), .end(1)], commands: [], inFlight: InFlight(running: 1, buffered: 1)),
        Row(name: "cancel-other cancels the runs in flight, closes the buffer and starts",
            steps: [.fire(1, .start), .fire(2, .buffer), .fire(3, .cancelOthersAndStart)],
            commands: [.cancel(runID: 1, schedule: "s"), .close(runID: 2, schedule: "s", reason: .replaced), .start(fire(3), schedule: "s")],
            inFlight: InFlight(running: 2)),
        Row(name: "a skipped fire changes nothing", steps: [.fire(1, .start), .fire(2, .skip("busy"))], commands: [],
            inFlight: InFlight(running: 1)),
        Row(name: "a buffered run that ends (cancelled by hand) leaves the buffer", steps: [.fire(1, .start), .fire(2, .buffer), .end(2)],
            commands: [], inFlight: InFlight(running: 1)),
        Row(name: "an end the book never saw is ignored", steps: [.end(9)], commands: [], inFlight: InFlight()),
    ])
    func steps(_ row: Row) {
        var flights = ScheduleFlights()
        var last: [ScheduleFlights.Command] = []
        for step in row.steps {
            switch step {
            case .fire(let id, let action): last = flights.recorded(Self.fire(id), schedule: "s", action: action)
            case .end(let id): last = flights.ended(id, schedule: "s")
            }
        }
        #expect(last == row.commands)
        #expect(flights.inFlight("s") == row.inFlight)
    }

    @Test("a removed schedule's buffered fires close; its runs in flight go on")
    func removed() {
        var flights = ScheduleFlights()
        _ = flights.recorded(Self.fire(1), schedule: "s", action: .start)
        _ = flights.recorded(Self.fire(2), schedule: "s", action: .buffer)
        #expect(flights.removed("s") == [.close(runID: 2, schedule: "s", reason: .scheduleRemoved)])
        #expect(flights.inFlight("s") == InFlight(running: 1))
        #expect(flights.ended(1, schedule: "s").isEmpty)
        #expect(flights == ScheduleFlights(), "nothing is kept of an idle schedule")
    }
}
