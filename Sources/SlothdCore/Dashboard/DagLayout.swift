/// Where the dashboard draws a run's tasks: a task's column is the length of the longest chain of
/// dependencies before it, so every edge points right; rows keep plan order within a column.
struct DagLayout: Equatable {
    struct Node: Equatable {
        var name: String
        var column: Int
        var row: Int
        var x: Int { column * (DagLayout.width + DagLayout.gap) + DagLayout.margin }
        var y: Int { row * (DagLayout.height + DagLayout.rowGap) + DagLayout.margin }
    }

    struct Edge: Equatable {
        var from: String
        var to: String
        var x1: Int, y1: Int, x2: Int, y2: Int
    }

    static let (width, height, gap, rowGap, margin) = (180, 46, 48, 14, 4)

    var nodes: [Node]
    var edges: [Edge]
    var canvasWidth: Int { (nodes.map(\.column).max() ?? 0) * (Self.width + Self.gap) + Self.width + 2 * Self.margin }
    var canvasHeight: Int { ((nodes.map(\.row).max() ?? 0) + 1) * (Self.height + Self.rowGap) + 2 * Self.margin - Self.rowGap }

    /// `needs` names what each task waits for; names outside `tasks` are ignored (a `--task` selection).
    init(tasks: [String], needs: [String: [String]]) {
        var column: [String: Int] = [:]
        let known = Set(tasks)
        // Plan order already puts dependencies first; the loop over it settles every column in one pass.
        for name in tasks {
            column[name] = (needs[name] ?? []).filter(known.contains).compactMap { column[$0] }.map { $0 + 1 }.max() ?? 0
        }
        var rows: [Int: Int] = [:]
        nodes = tasks.map { name in
            let at = column[name] ?? 0
            defer { rows[at, default: 0] += 1 }
            return Node(name: name, column: at, row: rows[at] ?? 0)
        }
        let byName = Dictionary(nodes.map { ($0.name, $0) }) { first, _ in first }
        edges = nodes.flatMap { node in
            (needs[node.name] ?? []).compactMap { byName[$0] }.map { before in
                Edge(from: before.name, to: node.name, x1: before.x + Self.width, y1: before.y + Self.height / 2,
                     x2: node.x, y2: node.y + Self.height / 2)
            }
        }
    }
}
