import Foundation

/// `artifacts({globs})`: after a task succeeds, the files its patterns match (relative to its workdir)
/// are listed with the task's result.
enum Artifacts {
    static func matching(_ patterns: [String], in directory: String) -> [String] {
        var paths: [String] = []
        for pattern in patterns {
            let absolute = pattern.hasPrefix("/") ? pattern : (directory as NSString).appendingPathComponent(pattern)
            var found = glob_t()
            defer { globfree(&found) }
            guard glob(absolute, 0, nil, &found) == 0 else { continue }
            for index in 0..<Int(found.gl_pathc) {
                if let path = found.gl_pathv[index] { paths.append(String(cString: path)) }
            }
        }
        return Array(Set(paths)).sorted()
    }
}
