/// JSON text to Lua values, bounded: nesting deeper than `LuaValue.maxNesting` is an error at its
/// byte, as is anything that is not JSON (RFC 8259). Recursion is bounded by the same depth, so no
/// input can exhaust the stack.
struct JSONParser {
    struct Failure: Error, Equatable, CustomStringConvertible {
        let reason: String
        /// 1-based byte offset in the input.
        let byte: Int
        var description: String { "\(reason) at byte \(byte)" }
    }

    private let bytes: [UInt8]
    private var position = 0

    static func parse(_ text: String) throws(Failure) -> LuaValue {
        try parse(Array(text.utf8))
    }

    static func parse(_ bytes: [UInt8]) throws(Failure) -> LuaValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw parser.failure("unexpected text after the document") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ reason: String) -> Failure { Failure(reason: reason, byte: position + 1) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func value(depth: Int) throws(Failure) -> LuaValue {
        switch current {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .boolean(true)
        case UInt8(ascii: "f"): try literal("false"); return .boolean(false)
        case UInt8(ascii: "n"): try literal("null"); return .nil_
        case .some(let byte) where byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte): return try number()
        case .none: throw failure("unexpected end of input")
        default: throw failure("unexpected character")
        }
    }

    private mutating func enter(_ depth: Int) throws(Failure) {
        guard depth <= LuaValue.maxNesting else { throw failure("nesting deeper than \(LuaValue.maxNesting)") }
        position += 1
        skipSpace()
    }

    private mutating func array(depth: Int) throws(Failure) -> LuaValue {
        try enter(depth)
        var items: [LuaValue] = []
        if current == UInt8(ascii: "]") { position += 1; return .table(LuaTable(array: items)) }
        while true {
            items.append(try value(depth: depth))
            skipSpace()
            switch current {
            case UInt8(ascii: ","): position += 1; skipSpace()
            case UInt8(ascii: "]"): position += 1; return .table(LuaTable(array: items))
            default: throw failure(current == nil ? "unexpected end of input" : "expected , or ]")
            }
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> LuaValue {
        try enter(depth)
        var fields: [String: LuaValue] = [:]
        if current == UInt8(ascii: "}") { position += 1; return .table(LuaTable(fields: fields)) }
        while true {
            guard current == UInt8(ascii: "\"") else { throw failure(current == nil ? "unexpected end of input" : "expected a string key") }
            let key = try string()
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw failure("expected :") }
            position += 1
            skipSpace()
            fields[key] = try value(depth: depth)
            skipSpace()
            switch current {
            case UInt8(ascii: ","): position += 1; skipSpace()
            case UInt8(ascii: "}"): position += 1; return .table(LuaTable(fields: fields))
            default: throw failure(current == nil ? "unexpected end of input" : "expected , or }")
            }
        }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        let expected = Array(word.utf8)
        guard position + expected.count <= bytes.count else { throw failure("unexpected end of input") }
        guard Array(bytes[position..<position + expected.count]) == expected else { throw failure("unexpected character") }
        position += expected.count
    }

    private mutating func number() throws(Failure) -> LuaValue {
        let start = position
        var integral = true
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, (0x30...0x39).contains(first) else { throw failure("expected a digit") }
        if first == 0x30 { position += 1 } else { skipDigits() }
        if current == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard let digit = current, (0x30...0x39).contains(digit) else { throw failure("expected a digit") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let digit = current, (0x30...0x39).contains(digit) else { throw failure("expected a digit") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if integral, let integer = Int64(text) { return .integer(integer) }
        guard let number = Double(text) else { throw Failure(reason: "invalid number", byte: start + 1) }
        return .number(number)
    }

    private mutating func skipDigits() {
        while let byte = current, (0x30...0x39).contains(byte) { position += 1 }
    }

    private mutating func string() throws(Failure) -> String {
        position += 1
        var scalars: [UInt8] = []
        while true {
            guard let byte = current else { throw failure("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: scalars, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                try escape(into: &scalars)
            case 0..<0x20:
                throw failure("control character in a string")
            default:
                scalars.append(byte)
                position += 1
            }
        }
    }

    private mutating func escape(into output: inout [UInt8]) throws(Failure) {
        guard let byte = current else { throw failure("unterminated string") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte); return
        case UInt8(ascii: "b"): output.append(0x08); return
        case UInt8(ascii: "f"): output.append(0x0C); return
        case UInt8(ascii: "n"): output.append(0x0A); return
        case UInt8(ascii: "r"): output.append(0x0D); return
        case UInt8(ascii: "t"): output.append(0x09); return
        case UInt8(ascii: "u"): break
        default: throw failure("invalid escape")
        }
        var code = try hex4()
        if (0xD800...0xDBFF).contains(code) {
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired surrogate")
            }
            position += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(code) {
            throw failure("unpaired surrogate")
        }
        output.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("unterminated string") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = bytes[position].hexDigitValue else { throw failure("invalid \\u escape") }
            code = code << 4 | UInt32(digit)
            position += 1
        }
        return code
    }
}

private extension UInt8 {
    var hexDigitValue: UInt8? {
        switch self {
        case 0x30...0x39: self - 0x30
        case 0x41...0x46: self - 0x41 + 10
        case 0x61...0x66: self - 0x61 + 10
        default: nil
        }
    }
}
