/// A store's error type that wraps anything unexpected from SQLite as `.storage(message)`.
protocol StorageFailure: Error {
    static func storage(_ message: String) -> Self
}

extension StorageFailure {
    /// Runs a store operation: the store's own errors pass through, any other failure becomes `.storage`.
    static func guarding<T>(_ body: () throws -> T) throws(Self) -> T {
        do { return try body() } catch let error as Self { throw error } catch { throw .storage("\(error)") }
    }
}
