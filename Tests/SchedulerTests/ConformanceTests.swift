import Foundation
@testable import Scheduler
import Testing

@Suite("Conformance vectors from independent cron implementations")
struct ConformanceTests {
    @Test("next fire times match the references", arguments: ConformanceVectors.next)
    func nextFireTimes(row: ConformanceVectors.Next) throws {
        let expression = try CronExpression(parsing: row.expr)
        let zone = try ZoneRules(identifier: expression.zoneName ?? row.tz)
        guard case .wall(let from) = try RFC3339.parse(row.from) else { Issue.record("from is not a wall time"); return }
        let fires = expression.schedule.nextFires(after: zone.instant(forWall: from.secondsSinceEpoch), in: zone, count: 5)
        let expected = try row.next.map { text -> Int64 in
            guard case .instant(let instant) = try RFC3339.parse(text) else { throw RFC3339.Error(text: text) }
            return instant
        }
        #expect(fires.map { RFC3339.format($0, in: zone) } == expected.map { RFC3339.format($0, in: zone) })
    }

    @Test("accepted expressions parse", arguments: ConformanceVectors.accept)
    func accepted(row: ConformanceVectors.Expression) throws {
        _ = try CronExpression(parsing: row.expr)
    }

    @Test("rejected expressions fail with a located reason", arguments: ConformanceVectors.reject)
    func rejected(row: ConformanceVectors.Expression) {
        #expect(throws: CronParseError.self) { try CronExpression(parsing: row.expr) }
    }
}
