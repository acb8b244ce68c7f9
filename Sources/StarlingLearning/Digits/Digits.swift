import StarlingCrypto

/// The UCI handwritten digits (data/digits/README.md), embedded in the binary.
public enum Digits {
    /// Rows, features and classes of the data set.
    public static let rowCount = 1_797
    public static let featureCount = 64
    public static let classCount = 10

    /// The gzip bytes embedded in the binary (identical to data/digits/digits.csv.gz).
    public static func embeddedGzip() throws(LearningError) -> [UInt8] {
        do {
            return try Base64.decode(DigitsData.gzipBase64, what: "embedded digits data")
        } catch {
            throw LearningError("embedded digits data: \(error)")
        }
    }

    /// The 1,797-sample 8×8 UCI handwritten digits, features scaled to [0, 1] (value / 16), 10 classes.
    public static func load() throws(LearningError) -> LabeledData {
        var data = try DatasetFile.decode(try DatasetFile.gunzip(try embeddedGzip()), format: .csv)
        guard data.count == rowCount, data.featureCount == featureCount, data.classCount == classCount else {
            throw LearningError("embedded digits data: \(data.count) rows of \(data.featureCount) features, \(data.classCount) classes")
        }
        for index in data.features.indices { data.features[index] /= 16 }
        return data
    }

    /// Per class, `testFraction` of its rows (rounded) go to the test part, chosen by a permutation
    /// from `seed`; both parts keep the original row order.
    public static func stratifiedSplit(_ data: LabeledData, testFraction: Double, seed: UInt64) -> (train: LabeledData, test: LabeledData) {
        var random = SeededRandom(seed: seed)
        var test: [Int] = []
        for label in 0..<data.classCount {
            var rows = data.labels.indices.filter { data.labels[$0] == Int32(label) }
            random.permute(&rows)
            let take = min(rows.count, Int((Double(rows.count) * min(max(testFraction, 0), 1)).rounded()))
            test += rows.prefix(take)
        }
        let testSet = Set(test)
        let train = data.labels.indices.filter { !testSet.contains($0) }
        return (data.subset(train), data.subset(test.sorted()))
    }

    /// Label-skewed non-IID split: for each class, proportions drawn from Dirichlet(alpha) over the
    /// parts (Gamma(alpha) samples, Marsaglia–Tsang, normalised) cut that class's shuffled rows. A part
    /// left empty then takes one row from the largest part, so every part is non-empty (needs
    /// `data.count ≥ parts`). Rows keep their original order within a part.
    public static func dirichletPartition(_ data: LabeledData, parts: Int, alpha: Double, seed: UInt64) -> [LabeledData] {
        let parts = max(1, min(parts, data.count))
        var random = SeededRandom(seed: seed)
        var assigned = [[Int]](repeating: [], count: parts)
        for label in 0..<data.classCount {
            var rows = data.labels.indices.filter { data.labels[$0] == Int32(label) }
            if rows.isEmpty { continue }
            random.permute(&rows)
            let draws = (0..<parts).map { _ in random.gamma(shape: max(alpha, 1e-3)) }
            let total = draws.reduce(0, +)
            var start = 0
            var cumulative = 0.0
            for part in 0..<parts {
                cumulative += draws[part]
                let end = part == parts - 1 ? rows.count : min(rows.count, Int(cumulative / total * Double(rows.count)))
                if end > start { assigned[part] += rows[start..<end] }
                start = max(start, end)
            }
        }
        for part in 0..<parts where assigned[part].isEmpty {
            let largest = assigned.indices.max { assigned[$0].count < assigned[$1].count }!
            assigned[part].append(assigned[largest].removeLast())
        }
        return assigned.map { data.subset($0.sorted()) }
    }
}
