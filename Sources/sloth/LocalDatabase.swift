import Catalog
import Foundation

/// The database `sloth` shares with slothd (SPEC section 3), opened for commands that work locally.
enum LocalDatabase {
    static func open() throws -> CatalogDatabase {
        do {
            let location = try StateLocation.resolve(environment: ProcessInfo.processInfo.environment, uid: getuid())
            return try CatalogDatabase(location: location)
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }
}

/// A failure that is not the user's input: printed as one line, exit code 1.
struct CommandFailure: Error {
    let message: String
}

extension LocalDatabase {
    /// `--stack` for a local command: omitted means the active stack (if any), empty means none; an
    /// unknown stack is bad input.
    static func stack(_ given: String?, in database: CatalogDatabase) throws -> String? {
        do {
            return try StackStore(database: database).resolve(given)
        } catch let error where error == .unknown(given ?? "") {
            throw InvalidInput(message: error.description)
        } catch {
            throw CommandFailure(message: error.description)
        }
    }
}
