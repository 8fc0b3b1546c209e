/// Two versions of a workflow line by line, as the dashboard shows them: kept lines with both line
/// numbers, removed ones with the old, added ones with the new (the standard library's difference).
enum LineDiff {
    enum Kind: String { case kept, removed, added }

    struct Line: Equatable {
        var kind: Kind
        var old: Int?
        var new: Int?
        var text: String
    }

    /// Versions are bounded by the request body limit; past `maxLines` lines either side the diff
    /// would be quadratic, so it is refused (nil) and the page shows both sources instead.
    static let maxLines = 5000

    static func lines(from old: String, to new: String) -> [Line]? {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard before.count <= maxLines, after.count <= maxLines else { return nil }
        let difference = after.difference(from: before)
        var removed = Set<Int>(), inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var result: [Line] = []
        var (i, j) = (0, 0)
        while i < before.count || j < after.count {
            if i < before.count, removed.contains(i) {
                result.append(Line(kind: .removed, old: i + 1, text: before[i]))
                i += 1
            } else if j < after.count, inserted.contains(j) {
                result.append(Line(kind: .added, new: j + 1, text: after[j]))
                j += 1
            } else {
                guard i < before.count, j < after.count else { break }
                result.append(Line(kind: .kept, old: i + 1, new: j + 1, text: after[j]))
                (i, j) = (i + 1, j + 1)
            }
        }
        return result
    }
}
