import Catalog
import Foundation
import Testing
@testable import Runner

struct ParseRow: Sendable, CustomTestStringConvertible {
    let text: String
    let expected: Result<LuaValue, JSONParser.Failure>
    init(_ text: String, _ value: LuaValue) { (self.text, expected) = (text, .success(value)) }
    init(_ text: String, fails reason: String, at byte: Int) { (self.text, expected) = (text, .failure(.init(reason: reason, byte: byte))) }
    var testDescription: String { String(text.prefix(40)) }
}

@Suite("Values that cross Lua and Swift are bounded")
struct BoundedValueTests {
    static let nested200 = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
    static let nested201 = String(repeating: "[", count: 201) + String(repeating: "]", count: 201)

    static let rows: [ParseRow] = [
        .init(#"{"a": [1, 2.5, "x\u00e9\ud83d\ude00", true, null], "b": {}}"#, .table(LuaTable(fields: [
            "a": .table(LuaTable(array: [.integer(1), .number(2.5), .string("xé😀"), .boolean(true), .nil_])),
            "b": .table(LuaTable()),
        ]))),
        .init(" -0.5e3 ", .number(-500)),
        .init("9223372036854775808", .number(9_223_372_036_854_775_808)),
        .init(#""tab\tnew\nline""#, .string("tab\tnew\nline")),
        .init(nested201, fails: "nesting deeper than 200", at: 201),
        .init(String(repeating: "{\"k\":", count: 10_000), fails: "nesting deeper than 200", at: 1001),
        .init("[1, 2", fails: "unexpected end of input", at: 6),
        .init("[1,]", fails: "unexpected character", at: 4),
        .init("{\"a\" 1}", fails: "expected :", at: 6),
        .init("01", fails: "unexpected text after the document", at: 2),
        .init("\"\\ud800\"", fails: "unpaired surrogate", at: 8),
        .init("\"a\u{01}\"", fails: "control character in a string", at: 3),
        .init("nul", fails: "unexpected end of input", at: 1),
        .init("", fails: "unexpected end of input", at: 1),
    ]

    @Test("JSON parses to Lua values, or fails at the byte that is wrong", arguments: rows)
    func parse(_ row: ParseRow) {
        #expect(Result { () throws(JSONParser.Failure) in try JSONParser.parse(row.text) } == row.expected)
    }

    @Test("200 levels are the limit: they parse; 201 do not")
    func limit() throws {
        var value = try JSONParser.parse(Self.nested200)
        var depth = 0
        while case .table(let table) = value, let inner = table.array.first { (value, depth) = (inner, depth + 1) }
        #expect(depth == 199)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Self.nested201) }
    }

    @Test("YAML nested past the limit is refused before the parser recurses", arguments: [
        String(repeating: "[", count: 201) + String(repeating: "]", count: 201),
        (0..<201).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1",
    ])
    func yamlLimit(_ text: String) {
        #expect(throws: LuaJSON.Error.self) { try LuaJSON.decodeYAML(text) }
    }

    @Test("a value nested too deeply for Lua is refused when set, and the state stays usable")
    func deepGlobalIsRefused() throws {
        let lua = try LuaState()
        var deep = LuaValue.integer(1)
        for _ in 0..<201 { deep = .table(LuaTable(array: [deep])) }
        #expect(throws: LuaError.self) { try lua.setGlobal("deep", deep) }
        #expect(try lua.run("return deep == nil", chunkName: "after.lua") == [.boolean(true)])
    }

    @Test("a result nested too deeply, or a table that contains itself, comes back as an error, not a crash")
    func deepResult() throws {
        let lua = try LuaState()
        #expect(throws: LuaError.self) { try lua.run("local t = {} t.t = t return t", chunkName: "cycle.lua") }
        #expect(throws: LuaError.self) {
            try lua.run("local t = {} local c = t for i = 1, 10000 do c[1] = {} c = c[1] end return t", chunkName: "deep.lua")
        }
    }

    @Test("cancelling after the state is gone is harmless")
    func lateCancel() throws {
        var interrupter: LuaInterrupter?
        do {
            let lua = try LuaState()
            interrupter = lua.interrupter
        }
        interrupter?.cancel()
    }

    @Test("a run's log is capped in bytes: the cap is said when reached and what was dropped at the end")
    func logCap() {
        let log = RunLog(echo: nil, now: { 1 })
        log.capBytes = 1_000
        for index in 0..<100 { log.write(level: .info, task: "t", message: "line \(index) " + String(repeating: "x", count: 40), fields: nil) }
        let lines = log.close()
        #expect(lines.reduce(0) { $0 + $1.message.utf8.count } < 1_300)
        #expect(lines.contains { $0.message.hasPrefix("log cap of 1000 bytes reached") })
        let kept = lines.filter { $0.task == "t" }.count
        #expect(lines.last?.message.hasPrefix("log truncated: \(100 - kept) line(s)") == true)
        #expect(lines.last?.message.hasSuffix("past the 1000 bytes cap (run_log_limit)") == true)
    }

    @Test("a cache entry that is short, foreign or damaged fails its check")
    func cacheEntryCheck() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString.prefix(8))").path
        let path = directory + "/entry.luac"
        let code: [UInt8] = Array("bytecode".utf8)
        CacheEntry.write(code, at: path, directory: directory)
        #expect(CacheEntry.read(path) == code)
        var bytes = Array(FileManager.default.contents(atPath: path)!)
        bytes[bytes.count - 1] ^= 1
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(CacheEntry.read(path) == nil)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes.prefix(10)))
        #expect(CacheEntry.read(path) == nil)
    }
}
