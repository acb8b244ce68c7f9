/// Suggesting the field a user probably meant ("did you mean trainingWorkers?").
enum NearestName {
    /// The known name closest to `name`, when one is close enough to be a typo or a change of
    /// case or separator (`training_workers` → `trainingWorkers`); nil otherwise.
    static func suggestion(for name: String, among known: [String]) -> String? {
        let normalized = normalize(name)
        if let same = known.first(where: { normalize($0) == normalized }) { return same }
        let threshold = max(1, min(3, normalized.count / 4))
        var best: (name: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(normalized, normalize(candidate), limit: threshold)
            if distance <= threshold, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Lowercase without `_` and `-`.
    static func normalize(_ text: String) -> [Character] {
        Array(text.lowercased().filter { $0 != "_" && $0 != "-" })
    }

    /// Levenshtein distance, giving up (returning `limit + 1`) once it cannot be within `limit`.
    static func editDistance(_ left: [Character], _ right: [Character], limit: Int) -> Int {
        if abs(left.count - right.count) > limit { return limit + 1 }
        if left.count > 64 || right.count > 64 { return limit + 1 }
        var previous = Array(0...right.count)
        var current = Array(repeating: 0, count: right.count + 1)
        for i in 1...max(1, left.count) where !left.isEmpty {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...max(1, right.count) where !right.isEmpty {
                let cost = left[i - 1] == right[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return left.isEmpty ? right.count : previous[right.count]
    }
}
