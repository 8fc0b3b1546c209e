import Foundation
import Yams

/// JSON and YAML for Lua values: a sequence becomes an array, anything else an object.
public enum LuaJSON {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// Compact JSON with sorted keys, so equal values always give equal text (state compares text).
    /// Sorted keys, slashes unescaped. The compact form is written directly: every run stores several
    /// documents, and Foundation's encoder costs more than the rest of a trivial run's bookkeeping.
    public static func encode(_ value: LuaValue, pretty: Bool = false) -> String {
        guard pretty else {
            var text = ""
            JSONValue(value).write(to: &text)
            return text
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        guard let data = try? encoder.encode(JSONValue(value)) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode(_ text: String) throws(Error) -> LuaValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw Error(description: error.description)
        }
    }

    static func decodeYAML(_ text: String) throws(Error) -> LuaValue {
        if let line = YAMLDepth.firstLineTooDeep(text) {
            throw Error(description: "invalid YAML: nesting deeper than \(LuaValue.maxNesting) at line \(line)")
        }
        do {
            return try Self.lua(fromYAML: try Yams.load(yaml: text), depth: 0)
        } catch let error as LuaValue.TooDeep {
            throw Error(description: "invalid YAML: \(error.description)")
        } catch {
            throw Error(description: "invalid YAML: \(error)")
        }
    }

    static func encodeYAML(_ value: LuaValue) -> String {
        (try? Yams.dump(object: JSONValue(value).foundation, sortKeys: true)) ?? ""
    }

    private static func lua(fromYAML any: Any?, depth: Int) throws(LuaValue.TooDeep) -> LuaValue {
        switch any {
        case let value as Bool: return .boolean(value)
        case let value as Int: return .integer(Int64(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        case let value as [Any]:
            guard depth < LuaValue.maxNesting else { throw LuaValue.TooDeep() }
            return .table(LuaTable(array: try value.map { item throws(LuaValue.TooDeep) in try lua(fromYAML: item, depth: depth + 1) }))
        case let value as [AnyHashable: Any]:
            guard depth < LuaValue.maxNesting else { throw LuaValue.TooDeep() }
            var fields: [String: LuaValue] = [:]
            for (key, item) in value { fields["\(key.base)"] = try lua(fromYAML: item, depth: depth + 1) }
            return .table(LuaTable(fields: fields))
        case .some(let value): return .string("\(value)")
        case .none: return .nil_
        }
    }
}

/// A JSON document, Codable, converting to and from Lua values.
enum JSONValue: Codable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(_ value: LuaValue) {
        switch value {
        case .nil_: self = .null
        case .boolean(let flag): self = .bool(flag)
        case .integer(let number): self = .int(number)
        case .number(let number): self = number.isFinite ? .double(number) : .null
        case .string(let text): self = .string(text)
        case .table(let table):
            if table.fields.isEmpty && !table.array.isEmpty {
                self = .array(table.array.map(JSONValue.init))
            } else {
                var object = table.fields.mapValues(JSONValue.init)
                for (index, item) in table.array.enumerated() { object[String(index + 1)] = JSONValue(item) }
                self = .object(object)
            }
        }
    }

    var lua: LuaValue {
        switch self {
        case .null: .nil_
        case .bool(let flag): .boolean(flag)
        case .int(let number): .integer(number)
        case .double(let number): .number(number)
        case .string(let text): .string(text)
        case .array(let items): .table(LuaTable(array: items.map(\.lua)))
        case .object(let fields): .table(LuaTable(fields: fields.mapValues(\.lua)))
        }
    }

    var foundation: Any {
        switch self {
        case .null: NSNull()
        case .bool(let flag): flag
        case .int(let number): Int(number)
        case .double(let number): number
        case .string(let text): text
        case .array(let items): items.map(\.foundation)
        case .object(let fields): fields.mapValues(\.foundation)
        }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
        else if let number = try? container.decode(Int64.self) { self = .int(number) }
        else if let number = try? container.decode(Double.self) { self = .double(number) }
        else if let text = try? container.decode(String.self) { self = .string(text) }
        else if let items = try? container.decode([JSONValue].self) { self = .array(items) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Compact JSON, as JSONEncoder writes it with sorted keys and unescaped slashes.
    func write(to text: inout String) {
        switch self {
        case .null: text += "null"
        case .bool(let flag): text += flag ? "true" : "false"
        case .int(let number): text += String(number)
        case .double(let number):
            text += number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        case .string(let string): Self.write(string: string, to: &text)
        case .array(let items):
            text += "["
            for (index, item) in items.enumerated() {
                if index > 0 { text += "," }
                item.write(to: &text)
            }
            text += "]"
        case .object(let fields):
            text += "{"
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                Self.write(string: key, to: &text)
                text += ":"
                fields[key]!.write(to: &text)
            }
            text += "}"
        }
    }

    /// Runs of bytes that need no escape are appended whole: a command's 80 KB of output costs an
    /// append per line, not one per character.
    private static func write(string: String, to text: inout String) {
        text += "\""
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices where bytes[index] < 0x20 || bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") {
                if start < index { text += String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) }
                text += escape(bytes[index])
                start = index + 1
            }
            if start < bytes.count { text += String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self) }
        }
        text += "\""
    }

    private static func escape(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): "\\\""
        case UInt8(ascii: "\\"): "\\\\"
        case UInt8(ascii: "\n"): "\\n"
        case UInt8(ascii: "\r"): "\\r"
        case UInt8(ascii: "\t"): "\\t"
        case 0x08: "\\b"
        case 0x0C: "\\f"
        default: "\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .int(let number): try container.encode(number)
        case .double(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let items): try container.encode(items)
        case .object(let fields): try container.encode(fields)
        }
    }
}

/// A cheap look at YAML text before the parser sees it: flow brackets nested, or block indentation
/// stepped, deeper than the limit (the parser and its builder recurse per level).
enum YAMLDepth {
    static func firstLineTooDeep(_ text: String) -> Int? {
        var indents: [Int] = []
        var line = 1
        var flow = 0
        for row in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer { line += 1 }
            let indent = row.prefix { $0 == " " || $0 == "-" }.count
            let content = row.dropFirst(indent)
            if !content.isEmpty && !content.hasPrefix("#") {
                while let last = indents.last, last >= indent { indents.removeLast() }
                indents.append(indent)
                if indents.count > LuaValue.maxNesting { return line }
            }
            var quote: Character?
            scan: for character in content {
                if let open = quote {
                    if character == open { quote = nil }
                    continue
                }
                switch character {
                case "\"", "'": quote = character
                case "[", "{": flow += 1
                case "]", "}": flow -= 1
                case "#": break scan
                default: continue
                }
                if flow > LuaValue.maxNesting { return line }
            }
        }
        return nil
    }
}
