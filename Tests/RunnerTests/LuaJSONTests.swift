import Foundation
import Testing
@testable import Runner

@Suite("Compact JSON")
struct LuaJSONTests {
    static let documents: [LuaValue] = [
        .nil_, .boolean(true), .integer(-42), .number(1.5), .number(2), .number(1e20), .number(0.1),
        .string("plain"), .string("quote \" backslash \\ slash / newline \n tab \t bell \u{07} unit \u{1F} é ✓"),
        .table(LuaTable(array: [.integer(1), .string("two"), .table(LuaTable())])),
        .table(LuaTable(fields: ["b": .integer(2), "a": .table(LuaTable(fields: ["z": .boolean(false), "y": .nil_]))])),
        .table(LuaTable(array: [.integer(1)], fields: ["k": .string("mixed")])),
    ]

    @Test("the direct writer matches JSONEncoder with sorted keys and unescaped slashes", arguments: documents)
    func matchesFoundation(_ document: LuaValue) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = String(decoding: try encoder.encode(JSONValue(document)), as: UTF8.self)
        #expect(LuaJSON.encode(document) == expected)
    }
}
