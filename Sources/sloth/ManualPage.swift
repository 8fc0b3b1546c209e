import Foundation

/// A man(7) page from a command's help: NAME, SYNOPSIS, DESCRIPTION (the root's discussion), the
/// root's options, then every subcommand with its usage, text and options, and SEE ALSO.
struct ManualPage {
    let root: HelpDump.Command
    let section: Int
    let version: String
    let seeAlso: [String]

    func render() -> String {
        let name = root.commandName
        var lines = [".TH \(name.uppercased()) \(section) \"\" \"\(name) \(version)\" \"slothd manual\"", ".SH NAME",
                     "\(name) \\- \(Self.escape(root.abstract ?? ""))", ".SH SYNOPSIS", synopsis(root, path: [name], builtIns: true)]
        if let discussion = root.discussion { lines += [".SH DESCRIPTION"] + Self.paragraphs(discussion) }
        let options = arguments(of: root, builtIns: true)
        if !options.isEmpty { lines += [".SH OPTIONS"] + options }
        let commands = root.shownSubcommands.flatMap { command(of: $0, path: [name]) }
        if !commands.isEmpty { lines += [".SH COMMANDS"] + commands }
        if !seeAlso.isEmpty { lines += [".SH SEE ALSO", seeAlso.map { "\\fB\($0)\\fR" }.joined(separator: ", ")] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One `.SS` per command, depth first; a group's own section holds its abstract only.
    private func command(of command: HelpDump.Command, path: [String]) -> [String] {
        let path = path + [command.commandName]
        var lines = [".SS \"\(path.joined(separator: " "))\""]
        let children = command.shownSubcommands
        if children.isEmpty { lines += [synopsis(command, path: path, builtIns: false), ".PP"] }
        lines += Self.paragraphs(command.abstract ?? "") + (command.discussion.map { [".PP"] + Self.paragraphs($0) } ?? [])
        if children.isEmpty { lines += arguments(of: command, builtIns: false) }
        return lines + children.flatMap { self.command(of: $0, path: path) }
    }

    private func shown(_ command: HelpDump.Command, builtIns: Bool) -> [HelpDump.Argument] {
        (command.arguments ?? []).filter { $0.shouldDisplay && (builtIns || !$0.isBuiltIn) }
    }

    /// `sloth runs list [--workflow W] [--limit N] ...`, in bold and italics.
    private func synopsis(_ command: HelpDump.Command, path: [String], builtIns: Bool) -> String {
        var words = path.map { "\\fB\(Self.escape($0))\\fR" }
        if !command.shownSubcommands.isEmpty { words.append("\\fIcommand\\fR") }
        for argument in shown(command, builtIns: builtIns) {
            var word = Self.label(argument, allNames: false)
            if argument.isRepeating { word += " ..." }
            words.append(argument.isOptional ? "[\(word)]" : word)
        }
        return ".nh\n.ad l\n" + words.joined(separator: " ") + "\n.ad\n.hy"
    }

    private func arguments(of command: HelpDump.Command, builtIns: Bool) -> [String] {
        shown(command, builtIns: builtIns).flatMap { argument -> [String] in
            var text = argument.abstract ?? ""
            if let values = argument.allValues, !values.isEmpty, !text.contains(values[0]) {
                text += " (values: \(values.joined(separator: ", ")))"
            }
            if let value = argument.defaultValue, argument.kind != .flag { text += " (default: \(value))" }
            let discussion = argument.discussion.map { [".IP"] + Self.paragraphs($0, break: ".IP") } ?? []
            return [".TP", Self.label(argument, allNames: true)] + Self.paragraphs(text, break: ".IP") + discussion
        }
    }

    /// `-o, --output output` (all names) or `--output output` (the long one), options bold, values italic.
    private static func label(_ argument: HelpDump.Argument, allNames: Bool) -> String {
        let value = "\\fI\(escape(argument.valueName ?? "value"))\\fR"
        guard argument.kind != .positional, let names = argument.names, let first = names.first else { return value }
        let preferred = names.first { $0.kind == "long" } ?? first
        let spelled = (allNames ? names : [preferred]).map { "\\fB\(escape($0.spelled))\\fR" }.joined(separator: ", ")
        return argument.kind == .option ? "\(spelled) \(value)" : spelled
    }

    /// Blank lines separate paragraphs (`.PP`, or `.IP` inside an option's entry); other line breaks are kept.
    private static func paragraphs(_ text: String, break request: String = ".PP") -> [String] {
        text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.enumerated().flatMap { index, paragraph in
            (index == 0 ? [] : [request]) + paragraph.split(separator: "\n").map { escape(String($0)) }
        }
    }

    /// roff text: backslashes and hyphens escaped, no line starting a request.
    static func escape(_ text: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }
}
