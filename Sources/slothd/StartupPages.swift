import Foundation

/// Start-up runs much code that never runs again (argument parsing, migrations, loading every schedule,
/// first-use initialisers), and on kernels that map file pages in large folios every page touched keeps
/// 100 KiB or more of the binary resident (522 scattered reads of the binary map 58 MB on the
/// benchmark machine). Once ready, slothd asks the kernel to reclaim its clean read-only file mappings
/// (MADV_PAGEOUT): what the steady state needs faults back in, the rest stops counting as slothd's
/// memory. Mappings holding private dirty pages (relocated RELRO data) are left alone, and the kernel
/// only pages out files the process owns or may write (root: all), so a non-root slothd running a
/// root-owned binary keeps its pages as before.
enum StartupPages {
    /// `MADV_PAGEOUT` (Linux 5.4); older kernels answer EINVAL and nothing changes.
    static let pageOut: Int32 = 21

    /// From /proc/self/smaps: the read-only, file-backed mappings without private dirty pages, as
    /// (start, length).
    static func cleanReadOnlyFileMappings(_ smaps: String) -> [(start: UInt, length: Int)] {
        var found: [(start: UInt, length: Int)] = []
        var candidate: (start: UInt, length: Int)?
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                candidate = nil
                guard fields.count >= 6, fields[1].first == "r", !fields[1].contains("w"), fields[5].first == "/" else { continue }
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                if bounds.count == 2, bounds[1] > bounds[0] { candidate = (bounds[0], Int(bounds[1] - bounds[0])) }
            } else if fields.first == "Private_Dirty:", let mapping = candidate {
                if fields.count >= 2, fields[1] == "0" { found.append(mapping) }
                candidate = nil
            }
        }
        return found
    }

    static func release() {
        guard let smaps = try? String(contentsOfFile: "/proc/self/smaps", encoding: .utf8) else { return }
        for mapping in cleanReadOnlyFileMappings(smaps) {
            madvise(UnsafeMutableRawPointer(bitPattern: mapping.start), mapping.length, pageOut)
        }
    }
}
