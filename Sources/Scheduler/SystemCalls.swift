#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system calls the scheduler makes, so that only this file imports the C library: zone files
/// are read with open/read rather than Foundation, whose ICU would add ~35 MB to static binaries.
enum SystemCalls {
    /// Why a file could not be read; `errno` as a number and as text.
    enum FileError: Error, Equatable {
        /// No such file, or a directory: the name does not denote a zone file.
        case missing
        case failed(call: String, errno: Int32, message: String)
        case tooLarge(limit: Int)
    }

    /// The whole content of a regular file of at most `limit` bytes.
    static func readFile(atPath path: String, limit: Int) throws(FileError) -> [UInt8] {
        // O_NONBLOCK: a FIFO placed where a zone file belongs must not block the open; fstat then refuses it.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw errno == ENOENT || errno == ENOTDIR ? .missing : failure("open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure("fstat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .missing }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read")
            }
            if count == 0 { return bytes }
            guard bytes.count + count <= limit else { throw .tooLarge(limit: limit) }
            bytes += chunk[..<count]
        }
    }

    /// The target of a symbolic link, or nil when `path` is not one.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// An environment variable, nil when unset.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Milliseconds since 1970 UTC from CLOCK_REALTIME.
    static func realtimeMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    private static func failure(_ call: String) -> FileError {
        let code = errno
        return .failed(call: call, errno: code, message: String(cString: strerror(code)))
    }
}
