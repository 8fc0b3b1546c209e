/// Process exit codes of SPEC section 4.
enum ExitStatus {
    static let ok: Int32 = 0
    static let error: Int32 = 1
    static let invalidInput: Int32 = 2
    static let taskFailed: Int32 = 3
    static let agentUnreachable: Int32 = 4
    static let hookFailed: Int32 = 5
}

/// Bad input from the user: printed as one line on stderr, exit code 2.
struct InvalidInput: Error {
    let message: String
}
