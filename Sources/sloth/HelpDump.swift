import Foundation

/// The command tree as ArgumentParser describes it (`--experimental-dump-help`, serialization
/// version 0): the one source of `--help`, the completion scripts and the man pages.
struct HelpDump: Decodable {
    let serializationVersion: Int
    let command: Command

    struct Command: Decodable {
        let commandName: String
        let abstract: String?
        let discussion: String?
        let shouldDisplay: Bool?
        let subcommands: [Command]?
        let arguments: [Argument]?

        /// What a reader is shown: not `help`, not hidden commands.
        var shownSubcommands: [Command] { (subcommands ?? []).filter { $0.shouldDisplay != false && $0.commandName != "help" } }
    }

    struct Argument: Decodable {
        enum Kind: String, Decodable { case positional, option, flag }
        struct Name: Decodable {
            let kind: String
            let name: String
            var spelled: String { kind == "short" || kind == "longWithSingleDash" ? "-\(name)" : "--\(name)" }
        }

        let kind: Kind
        let shouldDisplay: Bool
        let isOptional: Bool
        let isRepeating: Bool
        let names: [Name]?
        let valueName: String?
        let defaultValue: String?
        let allValues: [String]?
        let abstract: String?
        let discussion: String?

        /// `--help` and `--version` are the parser's own; the root command's page lists them once.
        var isBuiltIn: Bool { (names ?? []).contains { $0.name == "help" || $0.name == "version" } }
    }

    enum Problem: Error, CustomStringConvertible {
        case unreadable(String)
        case unsupportedVersion(Int)

        var description: String {
            switch self {
            case .unreadable(let detail): "not an ArgumentParser help dump: \(detail)"
            case .unsupportedVersion(let found): "help dump serialization version \(found); this sloth reads version 0"
            }
        }
    }

    static func decode(_ data: Data) throws(Problem) -> HelpDump {
        let dump: HelpDump
        do {
            dump = try JSONDecoder().decode(HelpDump.self, from: data)
        } catch {
            throw .unreadable("\(error)")
        }
        guard dump.serializationVersion == 0 else { throw .unsupportedVersion(dump.serializationVersion) }
        return dump
    }
}
