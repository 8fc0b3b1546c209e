import Crypto
import Foundation
import Synchronization

/// The 256-bit key that seals secrets (SPEC section 3): `$CREDENTIALS_DIRECTORY/slothd.key` when
/// systemd passes one, else `<state dir>/secrets.key`, created with mode 0600 on first use. A key file
/// holds 32 raw bytes, or their base64 or hex text; one readable by group or others is refused.
public final class SecretKeyring: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case missing(path: String)
        case unreadable(path: String, reason: String)
        case tooOpen(path: String, mode: String)
        case malformed(path: String)
        public var description: String {
            switch self {
            case .missing(let path): "no secrets key at \(path) (it is made when the first secret is set)"
            case .unreadable(let path, let reason): "cannot use the secrets key \(path): \(reason)"
            case .tooOpen(let path, let mode): "the secrets key \(path) is readable by group or others (mode \(mode)): chmod 600 \(path)"
            case .malformed(let path): "the secrets key \(path) is not 32 bytes, nor their base64 or hex text"
            }
        }
    }

    public let path: String
    /// A file systemd decrypted for us is never created here.
    private let fromCredentials: Bool
    private let cached = Mutex<[UInt8]?>(nil)

    public init(stateDirectory: String, environment: [String: String]) {
        if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty,
           FileManager.default.fileExists(atPath: credentials + "/slothd.key") {
            (path, fromCredentials) = (credentials + "/slothd.key", true)
        } else {
            (path, fromCredentials) = (stateDirectory + "/secrets.key", false)
        }
    }

    /// The key; with `create`, a missing state-dir key file is made first.
    func key(create: Bool) throws(Error) -> SymmetricKey {
        if let bytes = cached.withLock({ $0 }) { return SymmetricKey(data: bytes) }
        let bytes = try load(create: create && !fromCredentials)
        cached.withLock { $0 = bytes }
        return SymmetricKey(data: bytes)
    }

    private func load(create: Bool) throws(Error) -> [UInt8] {
        var info = stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            guard create else { throw .missing(path: path) }
            if let made = try make() { return made }
            guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        }
        if info.st_mode & 0o077 != 0 { throw .tooOpen(path: path, mode: String(info.st_mode & 0o777, radix: 8)) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "permission denied") }
        guard let bytes = Self.parse(Array(data)) else { throw .malformed(path: path) }
        return bytes
    }

    /// Writes a fresh key as base64 text with O_EXCL, so two processes racing agree on one key (the
    /// loser reads the winner's; nil tells the caller to).
    private func make() throws(Error) -> [UInt8]? {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            if errno == EEXIST { return nil }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let text = Array((Data(bytes).base64EncodedString() + "\n").utf8)
        guard fchmod(descriptor, 0o600) == 0, write(descriptor, text, text.count) == text.count, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            throw .unreadable(path: path, reason: reason)
        }
        return bytes
    }

    static func parse(_ contents: [UInt8]) -> [UInt8]? {
        if contents.count == 32 { return contents }
        let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let decoded = Data(base64Encoded: text), decoded.count == 32 { return Array(decoded) }
        guard text.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
