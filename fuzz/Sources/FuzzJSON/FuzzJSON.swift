// libFuzzer harness for Sources/Runner/JSONParser.swift (compiled here from symlinks to the real file).
//
// Each input goes to `JSONParser.parse(_: [UInt8])` and, independently, to `Oracle`, a strict RFC 8259
// recognizer written differently (iterative, explicit stack) that also measures nesting. Checked:
//   - no crash, no sanitizer report, no hang;
//   - a failure names a 1-based byte within 1...size+1;
//   - valid JSON nested <= LuaValue.maxNesting parses; valid JSON nested deeper fails at "nesting";
//   - anything the oracle calls invalid is rejected (the parser must not accept non-JSON);
//   - the value's kind matches the document's first byte.
// Unpaired \u surrogate escapes are grammatical JSON whose meaning RFC 8259 leaves open; the parser
// rejects them, so the oracle calls them `unspecified` and neither outcome is an error.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let verdict = Oracle.check(bytes)
    do {
        let value = try JSONParser.parse(bytes)
        switch verdict {
        case .valid(let depth):
            expect(depth <= LuaValue.maxNesting, "accepted a document nested \(depth) deep (limit \(LuaValue.maxNesting))", bytes)
            expect(kindMatches(value, bytes), "value \(value) does not match the document's first byte", bytes)
        case .invalid(let reason, let at):
            expect(false, "accepted invalid JSON (oracle: \(reason) at byte \(at + 1))", bytes)
        case .unspecified:
            break
        }
    } catch {
        expect((1...size + 1).contains(error.byte), "failure offset \(error.byte) outside 1...\(size + 1): \(error)", bytes)
        if case .valid(let depth) = verdict {
            if depth <= LuaValue.maxNesting {
                expect(false, "rejected valid JSON nested \(depth) deep: \(error)", bytes)
            } else {
                expect(error.reason.hasPrefix("nesting deeper"), "too-deep document (\(depth)) failed for another reason: \(error)", bytes)
            }
        }
    }
    return 0
}

private func expect(_ condition: Bool, _ message: @autoclosure () -> String, _ bytes: [UInt8]) {
    guard !condition else { return }
    let preview = String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
    fatalError("FuzzJSON property violated: \(message())\n  input (\(bytes.count) bytes, first 200): \(preview)")
}

private func kindMatches(_ value: LuaValue, _ bytes: [UInt8]) -> Bool {
    guard let first = bytes.first(where: { !Oracle.isSpace($0) }) else { return false }
    switch (first, value) {
    case (UInt8(ascii: "{"), .table(let table)): return table.array.isEmpty
    case (UInt8(ascii: "["), .table(let table)): return table.fields.isEmpty
    case (UInt8(ascii: "\""), .string): return true
    case (UInt8(ascii: "t"), .boolean(true)), (UInt8(ascii: "f"), .boolean(false)), (UInt8(ascii: "n"), .nil_): return true
    case (_, .integer), (_, .number): return first == UInt8(ascii: "-") || (0x30...0x39).contains(first)
    default: return false
    }
}

/// Strict RFC 8259 recognizer: UTF-8 checked byte by byte (no overlongs, no encoded surrogates, nothing
/// past U+10FFFF), no BOM, whitespace = space, tab, LF, CR.
enum Oracle {
    enum Verdict {
        case valid(depth: Int)
        case invalid(String, at: Int)
        case unspecified(String)
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    static func check(_ b: [UInt8]) -> Verdict {
        var i = 0
        var stack: [UInt8] = []     // open containers: "{" or "["
        var deepest = 0
        var loneSurrogate = false
        func at(_ k: Int) -> UInt8? { k < b.count ? b[k] : nil }
        func skip() { while let c = at(i), isSpace(c) { i += 1 } }
        func digits() -> Bool {
            let start = i
            while let c = at(i), c >= 0x30, c <= 0x39 { i += 1 }
            return i > start
        }
        func hex4() -> UInt32? {
            var code: UInt32 = 0
            for _ in 0..<4 {
                guard let c = at(i) else { return nil }
                let v: UInt32
                switch c {
                case 0x30...0x39: v = UInt32(c - 0x30)
                case 0x41...0x46: v = UInt32(c - 0x41 + 10)
                case 0x61...0x66: v = UInt32(c - 0x61 + 10)
                default: return nil
                }
                code = code * 16 + v
                i += 1
            }
            return code
        }
        /// At the opening quote; on success, just past the closing one.
        func string() -> String? {
            i += 1
            while true {
                guard let c = at(i) else { return "unterminated string" }
                switch c {
                case 0x22: i += 1; return nil
                case 0x00..<0x20: return "control character in string"
                case 0x5C:
                    i += 1
                    guard let e = at(i) else { return "unterminated escape" }
                    i += 1
                    switch e {
                    case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: continue
                    case 0x75:
                        guard let code = hex4() else { return "bad \\u escape" }
                        if (0xD800...0xDBFF).contains(code) {
                            if at(i) == 0x5C, at(i + 1) == 0x75 {
                                let save = i
                                i += 2
                                guard let low = hex4() else { return "bad \\u escape" }
                                if !(0xDC00...0xDFFF).contains(low) { loneSurrogate = true; i = save }
                            } else {
                                loneSurrogate = true
                            }
                        } else if (0xDC00...0xDFFF).contains(code) {
                            loneSurrogate = true
                        }
                    default: return "bad escape"
                    }
                case 0x20..<0x80: i += 1
                default:
                    // Table 3-7 of the Unicode standard: well-formed UTF-8 byte sequences.
                    let (count, low, high): (Int, UInt8, UInt8)
                    switch c {
                    case 0xC2...0xDF: (count, low, high) = (1, 0x80, 0xBF)
                    case 0xE0: (count, low, high) = (2, 0xA0, 0xBF)
                    case 0xE1...0xEC, 0xEE...0xEF: (count, low, high) = (2, 0x80, 0xBF)
                    case 0xED: (count, low, high) = (2, 0x80, 0x9F)
                    case 0xF0: (count, low, high) = (3, 0x90, 0xBF)
                    case 0xF1...0xF3: (count, low, high) = (3, 0x80, 0xBF)
                    case 0xF4: (count, low, high) = (3, 0x80, 0x8F)
                    default: return "invalid UTF-8 lead byte"
                    }
                    guard let second = at(i + 1), second >= low, second <= high else { return "invalid UTF-8" }
                    for k in stride(from: 2, through: count, by: 1) {
                        guard let next = at(i + k), next >= 0x80, next <= 0xBF else { return "invalid UTF-8" }
                    }
                    i += count + 1
                }
            }
        }
        /// An object's `"key" :` with the space around it; the problem, if any.
        func key() -> String? {
            guard at(i) == 0x22 else { return "expected a key" }
            if let problem = string() { return problem }
            skip()
            guard at(i) == UInt8(ascii: ":") else { return "expected :" }
            i += 1
            skip()
            return nil
        }

        skip()
        var wantValue = true
        while true {
            if wantValue {
                guard let c = at(i) else { return .invalid("end of input where a value belongs", at: i) }
                switch c {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    stack.append(c)
                    deepest = max(deepest, stack.count)
                    i += 1
                    skip()
                    let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    if at(i) == close { stack.removeLast(); i += 1; wantValue = false; continue }
                    if c == UInt8(ascii: "{"), let problem = key() { return .invalid(problem, at: i) }
                    continue
                case 0x22:
                    if let problem = string() { return .invalid(problem, at: i) }
                case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                    let word: [UInt8] = c == UInt8(ascii: "t") ? Array("true".utf8) : c == UInt8(ascii: "f") ? Array("false".utf8) : Array("null".utf8)
                    guard i + word.count <= b.count, Array(b[i..<i + word.count]) == word else { return .invalid("bad literal", at: i) }
                    i += word.count
                case UInt8(ascii: "-"), 0x30...0x39:
                    if c == UInt8(ascii: "-") { i += 1 }
                    if at(i) == 0x30 { i += 1 } else if !digits() { return .invalid("expected digit", at: i) }
                    if at(i) == UInt8(ascii: ".") {
                        i += 1
                        if !digits() { return .invalid("expected fraction digit", at: i) }
                    }
                    if at(i) == UInt8(ascii: "e") || at(i) == UInt8(ascii: "E") {
                        i += 1
                        if at(i) == UInt8(ascii: "+") || at(i) == UInt8(ascii: "-") { i += 1 }
                        if !digits() { return .invalid("expected exponent digit", at: i) }
                    }
                default:
                    return .invalid("not a value", at: i)
                }
                wantValue = false
                continue
            }
            skip()
            guard let top = stack.last else {
                if i != b.count { return .invalid("text after the document", at: i) }
                return loneSurrogate ? .unspecified("unpaired surrogate escape") : .valid(depth: deepest)
            }
            let close = top == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            guard let c = at(i) else { return .invalid("end of input in a container", at: i) }
            if c == close { stack.removeLast(); i += 1; continue }
            guard c == UInt8(ascii: ",") else { return .invalid("expected , or close", at: i) }
            i += 1
            skip()
            if top == UInt8(ascii: "{"), let problem = key() { return .invalid(problem, at: i) }
            wantValue = true
        }
    }
}
