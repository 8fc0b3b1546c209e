import Scheduler
import Testing
@testable import SlothdCore

@Suite("The dashboard's pure pieces")
struct DashboardPiecesTests {
    @Test("a task's column is its longest chain of dependencies; edges run from a task's right to its dependant's left")
    func dagColumns() {
        let layout = DagLayout(tasks: ["build", "test", "lint", "deploy"], needs: ["test": ["build"], "lint": ["build"], "deploy": ["test", "lint"]])
        #expect(layout.nodes.map { "\($0.name)@\($0.column),\($0.row)" } == ["build@0,0", "test@1,0", "lint@1,1", "deploy@2,0"])
        #expect(layout.edges.map { "\($0.from)>\($0.to)" } == ["build>test", "build>lint", "test>deploy", "lint>deploy"])
        #expect(layout.edges.allSatisfy { $0.x1 < $0.x2 })
    }

    @Test("a dependency outside the selected tasks draws nothing")
    func dagSelection() {
        let layout = DagLayout(tasks: ["deploy"], needs: ["deploy": ["test"]])
        #expect(layout.nodes.map(\.column) == [0] && layout.edges.isEmpty)
    }

    static let durationRows: [(Int64, String)] = [(0, "0ms"), (850, "850ms"), (42_000, "42s"), (192_000, "3m 12s"), (7_500_000, "2h 5m"),
                                               (3_600_000, "1h"), (277_200_000, "3d 5h")]

    @Test("durations are the two largest units", arguments: durationRows)
    func durations(_ millis: Int64, _ text: String) { #expect(HumanText.duration(millis: millis) == text) }

    @Test("a time keeps its zone visible")
    func times() {
        #expect(HumanText.time("2026-12-03T14:05:00.123+01:00") == "2026-12-03 14:05:00 +01:00")
        #expect(HumanText.time("2026-12-03T14:05:00Z") == "2026-12-03 14:05:00 UTC")
        #expect(RFC3339.millis("1970-01-01T00:00:01.500Z") == 1500)
    }

    @Test("a diff keeps, removes and adds lines with their numbers")
    func diff() {
        let lines = LineDiff.lines(from: "a\nb\nc", to: "a\nc\nd") ?? []
        #expect(lines.map { "\($0.kind.rawValue):\($0.old.map(String.init) ?? "-"):\($0.new.map(String.init) ?? "-"):\($0.text)" }
            == ["kept:1:1:a", "removed:2:-:b", "kept:3:2:c", "added:-:3:d"])
    }

    static let backs: [(String?, String?)] = [("/schedules", "/schedules"), ("//evil.example/x", nil), ("https://evil.example", nil),
                                              ("/\\evil", nil), ("/a\r\nSet-Cookie: x", nil), (nil, nil)]

    @Test("a form's way back stays on this site", arguments: backs)
    func back(_ given: String?, _ kept: String?) { #expect(Dashboard.safeBack(given) == kept) }

    @Test("the session cookie is found among others")
    func cookies() {
        #expect(WebGate.cookie("slothd_session", in: "theme=dark; slothd_session=abc; x=1") == "abc")
        #expect(WebGate.cookie("slothd_session", in: "slothd_sessionx=abc") == nil)
        #expect(WebGate.cookie("slothd_session", in: nil) == nil)
    }

    @Test("every template parses and renders")
    func templates() {
        for name in DashboardTemplates.sources.keys { #expect(DashboardTemplates.library.getTemplate(named: name) != nil, "\(name)") }
    }
}
