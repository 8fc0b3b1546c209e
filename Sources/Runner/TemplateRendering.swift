import Mustache

/// `template.render` and `data.template`: Mustache (swift-mustache) over a Lua table of values.
enum TemplateRendering {
    /// -> the rendered text, or `nil, "template: ..."` when the template does not parse.
    static func render(_ text: String, values: LuaValue) -> [LuaValue] {
        do {
            let template = try MustacheTemplate(string: text)
            return [.string(template.render(context(values)))]
        } catch {
            return HostResult.failure("template: \(error)")
        }
    }

    /// Lua values as the dictionaries, arrays and scalars Mustache walks.
    static func context(_ value: LuaValue, depth: Int = 0) -> Any {
        guard depth < 64 else { return "" }
        switch value {
        case .nil_: return Optional<String>.none as Any
        case .boolean(let flag): return flag
        case .integer(let number): return number
        case .number(let number): return number
        case .string(let text): return text
        case .table(let table):
            if table.fields.isEmpty && !table.array.isEmpty { return table.array.map { context($0, depth: depth + 1) } }
            var fields: [String: Any] = [:]
            for (key, field) in table.fields { fields[key] = context(field, depth: depth + 1) }
            for (index, item) in table.array.enumerated() { fields[String(index + 1)] = context(item, depth: depth + 1) }
            return fields
        }
    }
}
