import Foundation

/// Start-up runs much code that never runs again (argument parsing, migrations, loading every schedule,
/// first-use initialisers), and on kernels that map file pages in large folios every page touched keeps
/// 100 KiB or more of the binary resident (522 scattered reads of the binary map 58 MB on the
/// benchmark machine). Once ready, slothd asks the kernel to reclaim its read-only file mappings
/// (MADV_PAGEOUT: clean file pages only, and only those no other process maps; never data): what
/// the steady state needs faults back in, the rest stops counting as slothd's memory.
enum StartupPages {
    /// `MADV_PAGEOUT` (Linux 5.4); older kernels answer EINVAL and nothing changes.
    static let pageOut: Int32 = 21

    /// The read-only, file-backed mappings of /proc/self/maps, as (start, length).
    static func readOnlyFileMappings(_ maps: String) -> [(start: UInt, length: Int)] {
        maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1].first == "r", !fields[1].contains("w"), fields[5].first == "/" else { return nil }
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            guard bounds.count == 2, bounds[1] > bounds[0] else { return nil }
            return (bounds[0], Int(bounds[1] - bounds[0]))
        }
    }

    static func release() {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return }
        for mapping in readOnlyFileMappings(maps) {
            madvise(UnsafeMutableRawPointer(bitPattern: mapping.start), mapping.length, pageOut)
        }
    }
}
