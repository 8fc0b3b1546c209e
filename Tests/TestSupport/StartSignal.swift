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
