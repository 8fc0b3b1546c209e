import Control
import Testing

@Suite("Finding the first byte that is not UTF-8")
struct UTF8ValidationTests {
    @Test("valid text has none; each kind of bad sequence is found where it starts", arguments: [
        ("ASCII", Array("plain text".utf8), nil),
        ("multi-byte", Array("café ✓ 🦥".utf8), nil),
        ("empty", [], nil),
        ("a lone continuation byte", Array("ok".utf8) + [0x80], 2),
        ("a truncated sequence", Array("caf".utf8) + [0xC3], 3),
        ("a sequence cut by ASCII", Array("caf".utf8) + [0xC3, 0x28], 3),
        ("an overlong slash", [0x41, 0xC0, 0xAF], 1),
        ("a surrogate", Array("é".utf8) + [0xED, 0xA0, 0x80], 2),
        ("past U+10FFFF", [0xF4, 0x90, 0x80, 0x80], 0),
        ("0xFF", Array("ok".utf8) + [0xFF], 2),
    ] as [(String, [UInt8], Int?)])
    func firstInvalidByte(scenario: String, bytes: [UInt8], offset: Int?) {
        #expect(UTF8Validation.firstInvalidByte(in: bytes) == offset, "\(scenario)")
    }
}
