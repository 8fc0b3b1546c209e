/// Lua shortens long chunk names in its messages to "...<end of path>"; this puts the whole path back,
/// so an operator sees the file they named.
struct ChunkName: Sendable {
    let path: String

    func expand(_ text: String) -> String {
        guard path.count > 40, text.contains("...") else { return text }
        var result = ""
        var rest = text[...]
        while let dots = rest.range(of: "...") {
            result += rest[..<dots.lowerBound]
            let tail = rest[dots.upperBound...]
            let name = tail.prefix { $0 != ":" }
            if !name.isEmpty, tail.dropFirst(name.count).first == ":", path.hasSuffix(name) {
                result += path
                rest = tail.dropFirst(name.count)
            } else {
                result += "..."
                rest = tail
            }
        }
        return result + rest
    }
}
