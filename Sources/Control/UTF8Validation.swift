/// Where bytes stop being UTF-8. Swift's `String(decoding:as:)` and `CommandLine.arguments` put U+FFFD
/// in place of a bad sequence without a word; input is checked with this first, so bad bytes are refused
/// (SPEC section 10) rather than stored repaired.
public enum UTF8Validation {
    /// The offset of the first byte that does not start a valid UTF-8 sequence (overlong forms,
    /// surrogates and values past U+10FFFF are invalid too), or nil when all of them are valid.
    public static func firstInvalidByte(in bytes: some Sequence<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = Unicode.UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
