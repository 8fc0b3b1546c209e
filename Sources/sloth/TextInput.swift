import Control
import Foundation

/// Text the CLI reads from the user: files, stdin and its own arguments, refused (exit 2) where the bytes
/// are not UTF-8, naming where, instead of being stored with U+FFFD in their place.
enum TextInput {
    /// A file's content as text; `what` names it in errors ("workflow file", "values file").
    static func read(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw InvalidInput(message: "cannot read \(what) \(path)") }
        return try decode(data, what: "\(what) \(path)")
    }

    static func decode(_ data: Data, what: String) throws -> String {
        if let offset = UTF8Validation.firstInvalidByte(in: data) { throw InvalidInput(message: "invalid UTF-8 in \(what) at byte \(offset)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first argument of `arguments` (the raw bytes of argv, program name excluded) that is not UTF-8,
    /// as the error names it: the option it belongs to and the byte offset within its value.
    static func invalidArgument(_ arguments: [[UInt8]]) -> String? {
        for (index, argument) in arguments.enumerated() {
            guard let offset = UTF8Validation.firstInvalidByte(in: argument) else { continue }
            let text = String(decoding: argument, as: UTF8.self)
            // `--param=k=v`: the option is before the first '=', the offset counts from after it.
            if text.hasPrefix("--"), let equals = argument.firstIndex(of: UInt8(ascii: "=")), equals < offset {
                return "invalid UTF-8 in \(text[..<text.firstIndex(of: "=")!]) at byte \(offset - equals - 1)"
            }
            if index > 0, let option = String(validating: arguments[index - 1], as: UTF8.self), option.hasPrefix("-"), option != "--",
               !option.contains("=") {
                return "invalid UTF-8 in \(option) at byte \(offset)"
            }
            return "invalid UTF-8 in argument \(index + 1) at byte \(offset)"
        }
        return nil
    }

    /// This process's arguments as the kernel passed them (CommandLine.arguments has repaired them already).
    static func rawArguments() -> [[UInt8]] {
        (1..<Int(CommandLine.argc)).map { index in
            guard let pointer = CommandLine.unsafeArgv[index] else { return [] }
            return Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
        }
    }
}
