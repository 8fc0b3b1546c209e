/// `data` (also `json`): JSON and YAML, and `{{ name }}` templates.
enum DataModule {
    static func functions() -> [String: LuaState.HostFunction] {
        [
            "json_parse": { args throws(LuaHostError) in
                let text = try args.string(0, "json.decode")
                return [try Result { () throws(LuaJSON.Error) in try LuaJSON.decode(text) }
                    .mapError { LuaHostError("json.decode: \($0.description)") }.get()]
            },
            "json_encode": { args in [.string(LuaJSON.encode(args.at(0), pretty: args.at(1).isTruthy))] },
            "yaml_parse": { args throws(LuaHostError) in
                let text = try args.string(0, "data.yaml_parse")
                return [try Result { () throws(LuaJSON.Error) in try LuaJSON.decodeYAML(text) }
                    .mapError { LuaHostError("data.yaml_parse: \($0.description)") }.get()]
            },
            "yaml_encode": { args in [.string(LuaJSON.encodeYAML(args.at(0)))] },
            "template": { args throws(LuaHostError) in
                [.string(render(try args.string(0, "data.template"), args.at(1)))]
            },
        ]
    }

    /// Replaces `{{ name }}` and `{{ a.b }}` with values from `variables`; unknown names become "".
    static func render(_ template: String, _ variables: LuaValue) -> String {
        var output = ""
        var rest = template[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            output += rest[..<open.lowerBound]
            let path = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            var value = variables
            for key in path.split(separator: ".") { value = value[String(key)] }
            output += value.string ?? (value.bool.map { String($0) } ?? "")
            rest = rest[close.upperBound...]
        }
        return output + rest
    }
}
