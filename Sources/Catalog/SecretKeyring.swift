import Crypto
import Foundation
import Synchronization

/// The 256-bit key that seals secrets (SPEC section 3): `$CREDENTIALS_DIRECTORY/slothd.key` when
/// systemd passes one, else `<state dir>/secrets.key`, created with mode 0600 on first use. A key file
/// holds 32 raw bytes, or their base64 or hex text; one readable by group or others is refused.
///
/// The database records the id of the key its secrets are sealed with, so a wrong key is named as
/// such. Rotating a state-dir key stages the new one as `secrets.key.next` before the re-sealing
/// commits and renames it into place after. After a crash in between, readers use `.next` when it holds
/// the recorded key; only the rotating process (slothd) ever renames, when it installs or next stages.
public final class SecretKeyring: Sendable {
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case missing(path: String)
        case unreadable(path: String, reason: String)
        case tooOpen(path: String, mode: String)
        case malformed(path: String)
        case wrongKey(path: String, id: String, expected: String)
        public var description: String {
            switch self {
            case .missing(let path): "no secrets key at \(path)"
            case .unreadable(let path, let reason): "cannot use the secrets key \(path): \(reason)"
            case .tooOpen(let path, let mode): "the secrets key \(path) is readable by group or others (mode \(mode)): chmod 600 \(path)"
            case .malformed(let path): "the secrets key \(path) is not 32 bytes, nor their base64 or hex text"
            case .wrongKey(let path, let id, let expected):
                "the secrets key \(path) (id \(id)) is not the key the secrets are sealed with (id \(expected))"
            }
        }
    }

    public let path: String
    /// A key systemd decrypted for us is never created nor replaced here.
    public let fromCredentials: Bool
    private var nextPath: String { path + ".next" }
    private var directory: String { (path as NSString).deletingLastPathComponent }
    /// The key in use; every file operation happens under this lock.
    private let cached = Mutex<[UInt8]?>(nil)
    /// Held by whoever seals (setting a secret, rotating), so no value is sealed with a key being replaced.
    private let sealing = Mutex<Void>(())

    public init(stateDirectory: String, environment: [String: String]) {
        if let credentials = environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty,
           FileManager.default.fileExists(atPath: credentials + "/slothd.key") {
            (path, fromCredentials) = (credentials + "/slothd.key", true)
        } else {
            (path, fromCredentials) = (stateDirectory + "/secrets.key", false)
        }
    }

    /// A key's id: a digest that names it without revealing it.
    static func id(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: Array("slothd key id".utf8) + bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// The key, which must have id `expected` when the database names one. With `create` and no
    /// expected id, a missing state-dir key file is made first.
    func key(create: Bool, expected: String?) throws(Error) -> [UInt8] {
        try cached.withLock { (cached: inout [UInt8]?) throws(Error) -> [UInt8] in
            if let bytes = cached, expected == nil || Self.id(bytes) == expected { return bytes }
            var bytes = try load(path, create: create && expected == nil && !fromCredentials)
            if let expected, Self.id(bytes) != expected {
                guard !fromCredentials, let next = try? load(nextPath, create: false), Self.id(next) == expected else {
                    throw .wrongKey(path: path, id: Self.id(bytes), expected: expected)
                }
                bytes = next
            }
            cached = bytes
            return bytes
        }
    }

    /// Runs `body` while no other caller seals.
    func whileSealing<T, E: Swift.Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try sealing.withLock { (_: inout Void) throws(E) -> T in try body() }
    }

    /// Before re-sealing with `new`: a state-dir key is written beside `current`, the one in use. A
    /// `.next` left by a rotation that committed (it holds `current`) is put in place first; one left by
    /// a rotation that never committed is replaced.
    func stage(_ new: [UInt8], current: [UInt8]) throws(Error) {
        guard !fromCredentials else { return }
        try cached.withLock { (_: inout [UInt8]?) throws(Error) in
            if (try? load(nextPath, create: false)) == current { try promoteNext() } else { unlink(nextPath) }
            guard try write(new, to: nextPath) else { throw .unreadable(path: nextPath, reason: "it appeared while being written") }
        }
    }

    /// After re-sealing committed: the new key is the one in use.
    func install(_ bytes: [UInt8]) throws(Error) {
        try cached.withLock { (cached: inout [UInt8]?) throws(Error) in
            if !fromCredentials { try promoteNext() }
            cached = bytes
        }
    }

    private func promoteNext() throws(Error) {
        guard rename(nextPath, path) == 0 else { throw .unreadable(path: nextPath, reason: String(cString: strerror(errno))) }
        syncDirectory()
    }

    /// Makes a new or renamed key file's directory entry durable.
    private func syncDirectory() {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    private func load(_ file: String, create: Bool) throws(Error) -> [UInt8] {
        var info = stat()
        if stat(file, &info) != 0 {
            guard errno == ENOENT else { throw .unreadable(path: file, reason: String(cString: strerror(errno))) }
            guard create else { throw .missing(path: file) }
            let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            return try write(fresh, to: file) ? fresh : try load(file, create: false)
        }
        if info.st_mode & 0o077 != 0 { throw .tooOpen(path: file, mode: String(info.st_mode & 0o777, radix: 8)) }
        guard let data = FileManager.default.contents(atPath: file) else { throw .unreadable(path: file, reason: "permission denied") }
        guard let bytes = Self.parse(Array(data)) else { throw .malformed(path: file) }
        return bytes
    }

    /// Base64 text, mode 0600, written to a temporary file and linked into place: the file appears whole
    /// or not at all, and two processes making the first key at once agree on one (the loser reads the
    /// winner's). False if the file already exists.
    private func write(_ bytes: [UInt8], to file: String) throws(Error) -> Bool {
        let temporary = "\(file).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unreadable(path: file, reason: String(cString: strerror(errno))) }
        defer { unlink(temporary) }
        let text = Array((Data(bytes).base64EncodedString() + "\n").utf8)
        let written = fchmod(descriptor, 0o600) == 0 && Foundation.write(descriptor, text, text.count) == text.count && fsync(descriptor) == 0
        let reason = String(cString: strerror(errno))
        close(descriptor)
        guard written else { throw .unreadable(path: file, reason: reason) }
        guard link(temporary, file) == 0 else {
            if errno == EEXIST { return false }
            throw .unreadable(path: file, reason: String(cString: strerror(errno)))
        }
        syncDirectory()
        return true
    }

    public static func parse(_ contents: [UInt8]) -> [UInt8]? {
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
