import Control

/// How `sloth stack list|show` print stacks.
enum StackView {
    static func table(_ stacks: [ControlAPI.Stack]) -> String {
        TextTable.render([["NAME", "ACTIVE", "VALUES", "SECRETS", "RUNS", "LAST RUN", "LAST STATE", "DESCRIPTION"]] + stacks.map {
            [$0.name, $0.active ? "*" : "", String($0.values.count), String($0.secrets), String($0.runs),
             $0.last_run?.at ?? "never", $0.last_run?.state ?? "-", $0.description ?? ""]
        })
    }

    static func show(_ stack: ControlAPI.Stack, _ output: OutputFormat) throws {
        if output == .json { return print(try JSONOutput.encode(stack)) }
        var rows = [["NAME", stack.name], ["ACTIVE", stack.active ? "yes" : "no"], ["DESCRIPTION", stack.description ?? ""],
                    ["SECRETS", String(stack.secrets)], ["RUNS", String(stack.runs)], ["CREATED", stack.created_at],
                    ["UPDATED", stack.updated_at]]
        if let last = stack.last_run {
            rows += [["LAST RUN", "\(last.id) \(last.state ?? "") at \(last.at) in \(last.duration ?? "?")"]]
            if let error = last.error { rows.append(["LAST ERROR", error]) }
            if let outputs = last.outputs, outputs != .object([:]) { rows.append(["LAST OUTPUTS", outputs.json]) }
        }
        print(TextTable.render(rows), terminator: "")
        if !stack.values.isEmpty {
            print("\n" + TextTable.render([["KEY", "VALUE"]] + stack.values.sorted { $0.key < $1.key }.map { [$0.key, $0.value.json] }),
                  terminator: "")
        }
        if let recent = stack.recent_runs, !recent.isEmpty {
            print("\n" + TextTable.render([["RUN", "WORKFLOW", "TRIGGER", "STATE", "QUEUED"]] + recent.map {
                [String($0.id), $0.workflow, $0.trigger.rawValue, $0.state.rawValue, $0.queued_at]
            }), terminator: "")
        }
    }
}
