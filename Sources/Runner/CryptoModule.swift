import Crypto
import Foundation

/// `crypto`: digests (hex), base64/hex, random values, AES-256-GCM.
enum CryptoModule {
    static func functions() -> [String: LuaState.HostFunction] {
        func digest(_ name: String, _ hash: @escaping ([UInt8]) -> [UInt8]) -> LuaState.HostFunction {
            { args throws(LuaHostError) in [.string(hex(hash(Array(try args.string(0, "crypto.\(name)").utf8))))] }
        }
        return [
            "md5": digest("md5") { Array(Insecure.MD5.hash(data: $0)) },
            "sha1": digest("sha1") { Array(Insecure.SHA1.hash(data: $0)) },
            "sha256": digest("sha256") { Array(SHA256.hash(data: $0)) },
            "sha512": digest("sha512") { Array(SHA512.hash(data: $0)) },
            "base64_encode": { args throws(LuaHostError) in
                [.string(Data(try args.string(0, "crypto.base64_encode").utf8).base64EncodedString())]
            },
            "base64_decode": { args throws(LuaHostError) in
                guard let data = Data(base64Encoded: try args.string(0, "crypto.base64_decode")) else {
                    return HostResult.failure("crypto.base64_decode: not valid base64")
                }
                return [.string(String(decoding: data, as: UTF8.self))]
            },
            "hex_encode": { args throws(LuaHostError) in [.string(hex(Array(try args.string(0, "crypto.hex_encode").utf8)))] },
            "hex_decode": { args throws(LuaHostError) in
                guard let bytes = unhex(try args.string(0, "crypto.hex_decode")) else {
                    return HostResult.failure("crypto.hex_decode: not valid hex")
                }
                return [.string(String(decoding: bytes, as: UTF8.self))]
            },
            "random_bytes": { args in [.string(hex(randomBytes(Int(args.at(0).int ?? 16))))] },
            "random_string": { args throws(LuaHostError) in
                let alphabets = ["alphanumeric": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                                 "alpha": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                 "numeric": "0123456789", "hex": "0123456789abcdef"]
                let name = args.at(1).string ?? "alphanumeric"
                guard let alphabet = alphabets[name].map(Array.init) else {
                    throw LuaHostError("crypto.random_string: unknown charset \"\(name)\" (alphanumeric, alpha, numeric, hex)")
                }
                let length = max(0, Int(args.at(0).int ?? 16))
                return [.string(String((0..<length).map { _ in alphabet.randomElement()! }))]
            },
            "generate_password": { args in
                let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!@#%^&*-_=+")
                return [.string(String((0..<max(8, Int(args.at(0).int ?? 16))).map { _ in alphabet.randomElement()! }))]
            },
            "uuid": { _ in [.string(UUID().uuidString.lowercased())] },
            "aes_encrypt": { args throws(LuaHostError) in
                let plaintext = try args.string(0, "crypto.aes_encrypt"), key = try args.string(1, "crypto.aes_encrypt")
                do {
                    let sealed = try AES.GCM.seal(Array(plaintext.utf8), using: symmetricKey(key))
                    return [.string(sealed.combined!.base64EncodedString())]
                } catch {
                    return HostResult.failure("crypto.aes_encrypt: \(error)")
                }
            },
            "aes_decrypt": { args throws(LuaHostError) in
                let encoded = try args.string(0, "crypto.aes_decrypt"), key = try args.string(1, "crypto.aes_decrypt")
                do {
                    guard let data = Data(base64Encoded: encoded) else { return HostResult.failure("crypto.aes_decrypt: not valid base64") }
                    let plaintext = try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: symmetricKey(key))
                    return [.string(String(decoding: plaintext, as: UTF8.self))]
                } catch {
                    return HostResult.failure("crypto.aes_decrypt: wrong key or damaged ciphertext")
                }
            },
        ]
    }

    /// A 32-byte key is used as it is; any other text is stretched with SHA-256 (the docs' own example key is 31 bytes).
    static func symmetricKey(_ text: String) -> SymmetricKey {
        let bytes = Array(text.utf8)
        return SymmetricKey(data: bytes.count == 32 ? bytes : Array(SHA256.hash(data: bytes)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static func unhex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: chars.count, by: 2) {
            guard let byte = UInt8(String(decoding: chars[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<max(0, count)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
