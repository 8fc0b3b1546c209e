import Foundation
import Testing

@Suite("sloth scheduler next, as a user runs it")
struct SchedulerNextCLITests {
    @Test("text output is an aligned table", arguments: [
        ("next-new-york-gap.txt", ["30 2 * * *", "--tz", "America/New_York", "--from", "2027-03-13T00:00", "--count", "3"]),
        ("next-every.txt", ["@every 90m", "--tz", "Europe/Berlin", "--from", "2027-03-28T00:00", "--count", "4"]),
        ("next-never.txt", ["0 0 30 2 *", "--tz", "UTC", "--from", "2027-01-01T00:00"]),
    ])
    func textOutput(golden: String, arguments: [String]) async throws {
        let result = try await CLI.run(["scheduler", "next"] + arguments)
        #expect(result.status == 0)
        #expect(result.stdout == (try Golden.text(golden, actual: result.stdout)))
    }

    @Test("help texts", arguments: [
        ("help-sloth.txt", ["--help"]),
        ("help-scheduler-next.txt", ["scheduler", "next", "--help"]),
    ])
    func helpText(golden: String, arguments: [String]) async throws {
        let result = try await CLI.run(arguments, environment: ["COLUMNS": "100"])
        #expect(result.status == 0)
        #expect(result.stdout == (try Golden.text(golden, actual: result.stdout)))
    }

    @Test("JSON output has exactly expr, tz and next, with RFC 3339 offsets")
    func jsonOutput() async throws {
        let result = try await CLI.run(["scheduler", "next", "CRON_TZ=Europe/Berlin 30 2 * * *", "--from", "2027-03-27T12:00:00+01:00", "--count", "2", "-o", "json"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(document?.keys.sorted() == ["expr", "next", "tz"])
        #expect(document?["tz"] as? String == "Europe/Berlin")
        #expect(document?["next"] as? [String] == ["2027-03-28T03:00:00+02:00", "2027-03-29T02:30:00+02:00"])
    }

    @Test("bad input exits 2 with one line that says which field and why", arguments: [
        (["61 * * * *"], "sloth: invalid cron expression \"61 * * * *\": minute field, column 1: 61 is out of range 0-59\n"),
        (["5-1 * * * *"], "sloth: invalid cron expression \"5-1 * * * *\": minute field, column 1: range 5-1 is reversed: write the smaller value first\n"),
        (["@Daily"], "sloth: invalid cron expression \"@Daily\": column 1: unknown nickname \"@Daily\" (known, lower case only: @yearly @annually @monthly @weekly @daily @midnight @hourly @reboot @every DURATION)\n"),
        ([""], "sloth: invalid cron expression \"\": the expression is empty\n"),
        (["* * * * *", "--tz", "Mars/Base"], "sloth: unknown time zone \"Mars/Base\" (no zone file /usr/share/zoneinfo/Mars/Base; expected an IANA name such as Europe/Berlin, UTC or Etc/GMT+5; POSIX-style GMT+5 is not accepted: it means the opposite of Etc/GMT+5)\n"),
        (["* * * * *", "--tz", "GMT+5"], "sloth: unknown time zone \"GMT+5\" (expected an IANA name such as Europe/Berlin, UTC or Etc/GMT+5; POSIX-style GMT+5 is not accepted: it means the opposite of Etc/GMT+5)\n"),
        (["* * * * *", "--from", "yesterday"], "sloth: --from: invalid time \"yesterday\": expected RFC 3339 (2026-03-08T01:30:00-05:00) or a wall time (2026-03-08T01:30)\n"),
        (["* * * * *", "--count", "0"], "sloth: --count: 0 is out of range 1-1000 (see 'sloth scheduler next --help')\n"),
        (["-1 * * * *"], "sloth: invalid cron expression \"-1 * * * *\": minute field, column 1: expected a value, found '-'\n"),
    ])
    func badInput(arguments: [String], message: String) async throws {
        let result = try await CLI.run(["scheduler", "next"] + arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == message)
    }

    @Test("a CRON_TZ prefix wins over --tz")
    func prefixZoneWins() async throws {
        let result = try await CLI.run(["scheduler", "next", "CRON_TZ=Asia/Kolkata 0 9 * * *", "--tz", "UTC", "--from", "2027-01-01T00:00:00Z", "--count", "1", "-o", "json"])
        #expect(result.stdout == "{\"expr\":\"CRON_TZ=Asia/Kolkata 0 9 * * *\",\"next\":[\"2027-01-01T09:00:00+05:30\"],\"tz\":\"Asia/Kolkata\"}\n")
    }

    @Test("sloth version")
    func version() async throws {
        let text = try await CLI.run(["version"])
        #expect(text.status == 0)
        #expect(text.stdout == "sloth 0.1.0\n")
        #expect(try await CLI.run(["version", "-o", "json"]).stdout == "{\"version\":\"0.1.0\"}\n")
    }
}
