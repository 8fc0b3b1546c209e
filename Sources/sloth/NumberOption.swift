import ArgumentParser

/// Whole-number options are declared with `parsing: .unconditional`, so that `--limit -3` reaches
/// here and is refused as a value ("not a positive number") rather than read as a missing one.
enum NumberOption {
    static func check(_ value: Int, _ name: String, in range: ClosedRange<Int>) throws(ValidationError) {
        guard !range.contains(value) else { return }
        switch (range.lowerBound, range.upperBound) {
        case (1, Int.max): throw ValidationError("\(name): \(value) is not a positive number")
        case (let low, Int.max): throw ValidationError("\(name): \(value) is less than \(low)")
        case (let low, let high): throw ValidationError("\(name): \(value) is out of range \(low)-\(high)")
        }
    }
}
