import Foundation

/// A FIFO a job writes to when it has started (`echo go > PATH`), so a test waits for that moment
/// instead of polling or sleeping.
public struct StartSignal: Sendable {
    public let path: String

    public init(in directory: URL) throws {
        path = directory.appendingPathComponent("started-\(UUID().uuidString.prefix(8))").path
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Returns once the job has opened the FIFO and written to it (on a thread of its own).
    public func wait() async {
        let path = self.path
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let fifo = open(path, O_RDONLY)
                var byte: UInt8 = 0
                _ = read(fifo, &byte, 1)
                close(fifo)
                continuation.resume()
            }
        }
    }
}

/// A FIFO that jobs write a line to each time they run (`echo go > PATH`), held open by the test for
/// reading and writing so that a job's write never blocks nor fails, however many runs come.
public final class RunSignal: Sendable {
    public let path: String
    private let descriptor: Int32

    public init(in directory: URL) throws {
        path = directory.appendingPathComponent("ran-\(UUID().uuidString.prefix(8))").path
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    deinit { close(descriptor) }

    /// Returns once the next line has been written (read on a thread of its own).
    public func next() async {
        let descriptor = self.descriptor
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var byte: UInt8 = 0
                while read(descriptor, &byte, 1) == 1 && byte != UInt8(ascii: "\n") {}
                continuation.resume()
            }
        }
    }
}
