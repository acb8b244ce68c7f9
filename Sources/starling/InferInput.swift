import ArgumentParser
import Foundation
import StarlingLearning

/// The examples `starling infer` sends: `rows` × `featureCount` values, row-major, and a label per
/// row when the file has them (then accuracy is reported).
struct InferInput: Equatable {
    var rows: Int
    var featureCount: Int
    var features: [Float]
    var labels: [Int]?
    /// Where the labels came from, or why there are none, in one line for the user.
    var labelNote: String

    /// The values of rows `range`, row-major.
    func values(_ range: Range<Int>) -> [Float] {
        Array(features[(range.lowerBound * featureCount)..<(range.upperBound * featureCount)])
    }
}

/// `--labels`: where the true classes are. `auto` takes a CSV's last column when it holds only
/// small whole numbers and the others do not, and an npz or safetensors file's `y` when present.
enum InferLabels: String, ExpressibleByArgument, CaseIterable {
    case auto, last, none
}

/// The file formats `starling infer` reads.
enum InferInputFormat: String {
    case csv, npz, safetensors

    /// By the file's extension, else by its first bytes: a zip archive is npz, an 8-byte length
    /// then `{` is safetensors, anything else is read as CSV.
    static func of(path: String, bytes: [UInt8]) -> InferInputFormat {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".npz") { return .npz }
        if lowered.hasSuffix(".safetensors") { return .safetensors }
        if lowered.hasSuffix(".csv") { return .csv }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .npz }
        if bytes.count > 8, bytes[8] == UInt8(ascii: "{"), bytes[5..<8].allSatisfy({ $0 == 0 }) { return .safetensors }
        return .csv
    }
}

/// Reading `starling infer`'s input file: CSV, npz or safetensors (docs/cli.md, "infer"). Every
/// problem is a thrown error naming the file, the line or the array.
enum InferInputFile {
    /// Array names that hold the examples, in the order they are looked for.
    static let npzInputNames = ["x", "X", "data"]
    static let safetensorsInputNames = ["x", "input"]

    static func read(path: String, features: Int?, labels: InferLabels) throws -> InferInput {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CLIError("cannot read \(path): \((error as NSError).localizedDescription)")
        }
        do {
            return try decode(bytes, format: InferInputFormat.of(path: path, bytes: bytes), features: features, labels: labels)
        } catch let error as CLIError {
            throw CLIError("\(path): \(error.description)")
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }

    static func decode(_ bytes: [UInt8], format: InferInputFormat, features: Int?, labels: InferLabels) throws -> InferInput {
        guard bytes.count <= LearningLimits.datasetBytesMax else {
            throw CLIError("\(bytes.count) bytes exceed \(LearningLimits.datasetBytesMax)")
        }
        switch format {
        case .csv: return try csv(bytes, features: features, labels: labels)
        case .npz:
            let arrays = try DatasetFile.npzArrays(bytes)
            guard let name = npzInputNames.first(where: { arrays[$0] != nil }), let x = arrays[name] else {
                throw CLIError("npz has no array \(npzInputNames.joined(separator: ", ")) (it holds \(arrays.keys.sorted().joined(separator: ", ")))")
            }
            guard x.values.allSatisfy({ $0.isFinite && abs($0) <= Double(Float.greatestFiniteMagnitude) }) else {
                throw CLIError("npz array \(name) holds a value that is not a finite Float")
            }
            let y = arrays["y"].map { ($0.shape, $0.values) }
            return try examples(name, x.shape, x.values.map(Float.init), y: y, features: features, labels: labels)
        case .safetensors:
            let model = try SafeTensors.decode(bytes, requireFinite: true)
            guard let name = safetensorsInputNames.first(where: { model[$0] != nil }), let x = model[name] else {
                throw CLIError("safetensors has no tensor \(safetensorsInputNames.joined(separator: " or ")) "
                    + "(it holds \(model.tensors.map(\.name).joined(separator: ", ")))")
            }
            let y = model["y"].map { ($0.shape, $0.values.map(Double.init)) }
            return try examples(name, x.shape, x.values, y: y, features: features, labels: labels)
        }
    }

    /// Examples from an array (1-D: one example; more: the first dimension counts the examples,
    /// the rest are flattened) and the optional labels array `y`.
    static func examples(_ name: String, _ shape: [Int], _ values: [Float], y: ([Int], [Double])?, features: Int?,
                       labels: InferLabels) throws -> InferInput {
        guard !shape.isEmpty, !values.isEmpty else { throw CLIError("array \(name) of shape \(shape) holds no examples") }
        let rows = shape.count == 1 ? 1 : shape[0]
        let width = values.count / rows
        if let features, features != width {
            throw CLIError("array \(name) of shape \(shape) has \(width) values per example, --features says \(features)")
        }
        let input = InferInput(rows: rows, featureCount: width, features: values, labels: nil, labelNote: "")
        switch (labels, y) {
        case (.none, _):
            return with(input, labels: nil, note: "labels: none (--labels none)")
        case (.last, nil):
            throw CLIError("--labels last: the file has no array y of labels")
        case (.auto, nil):
            return with(input, labels: nil, note: "labels: none (no array y)")
        case let (_, (yShape, yValues)?):
            guard yValues.count == rows, yShape.count <= 1 || yShape.dropFirst().allSatisfy({ $0 == 1 }) else {
                throw CLIError("array y of shape \(yShape) does not hold one label for each of the \(rows) examples")
            }
            if let bad = yValues.firstIndex(where: { !isLabel($0) }) {
                throw CLIError("y[\(bad)] is \(yValues[bad]), not a label (a whole number in 0..<\(LearningLimits.classesMax))")
            }
            return with(input, labels: yValues.map { Int($0) }, note: "labels: array y")
        }
    }

    /// A CSV of numbers: a header line is skipped (a first line with a field that is not a number),
    /// every line has as many fields; the label column is chosen by `--features` and `--labels`.
    static func csv(_ bytes: [UInt8], features: Int?, labels: InferLabels) throws -> InferInput {
        let (rows, columns) = try csvRows(bytes)
        let labelled: Bool
        var note: String
        if let features {
            guard columns == features || columns == features + 1 else {
                throw CLIError("the rows have \(columns) columns; --features \(features) needs \(features) (or \(features + 1) with a label)")
            }
            labelled = columns == features + 1
            if labelled && labels == .none {
                throw CLIError("the rows have \(columns) columns, one more than --features \(features), and --labels none: which column is the extra?")
            }
            if !labelled && labels == .last {
                throw CLIError("--labels last: the rows have \(columns) columns, as many as --features \(features), so none is a label")
            }
            note = labelled ? "labels: last column (--features \(features) of \(columns) columns)" : "labels: none (--features \(features))"
        } else {
            switch labels {
            case .none:
                labelled = false
                note = "labels: none (--labels none)"
            case .last:
                labelled = true
                note = "labels: last column (--labels last)"
            case .auto:
                let lastIsLabels = rows.allSatisfy { isLabel(Double($0[columns - 1])) }
                let othersAreToo = rows.allSatisfy { $0.dropLast().allSatisfy { isLabel(Double($0)) } }
                labelled = columns >= 2 && lastIsLabels && !othersAreToo
                if labelled {
                    note = "labels: last column (it holds only whole numbers 0..\(rows.map { Int($0[columns - 1]) }.max() ?? 0), "
                        + "the other columns do not; --labels none to send it as a feature)"
                } else if columns >= 2 && lastIsLabels {
                    note = "labels: none (every column holds small whole numbers, so the last is sent as a feature; "
                        + "--labels last if it is the label)"
                } else {
                    note = "labels: none (the last column holds values that are not labels)"
                }
            }
        }
        let width = labelled ? columns - 1 : columns
        guard width >= 1 else { throw CLIError("the rows have 1 column: a label and no features") }
        var values: [Float] = []
        values.reserveCapacity(rows.count * width)
        var classes: [Int] = []
        for (index, row) in rows.enumerated() {
            values.append(contentsOf: row.prefix(width))
            if labelled {
                guard isLabel(Double(row[columns - 1])) else {
                    throw CLIError("row \(index + 1): label \(row[columns - 1]) is not a whole number in 0..<\(LearningLimits.classesMax)")
                }
                classes.append(Int(row[columns - 1]))
            }
        }
        return InferInput(rows: rows.count, featureCount: width, features: values, labels: labelled ? classes : nil, labelNote: note)
    }

    /// The rows of numbers and their column count. Lines numbered from 1 in the errors.
    static func csvRows(_ bytes: [UInt8]) throws -> (rows: [[Float]], columns: Int) {
        var rows: [[Float]] = []
        var columns: Int?
        var columnsLine = 0
        // Split on the bytes: as Characters, "\r\n" is one, never equal to "\n".
        for (offset, rawLine) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = String(decoding: rawLine.last == 0x0D ? rawLine.dropLast() : rawLine, as: UTF8.self)
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.map { Float($0) }
            if let bad = numbers.firstIndex(where: { $0 == nil || !$0!.isFinite }) {
                if rows.isEmpty && columns == nil {  // a header line
                    columns = fields.count
                    columnsLine = lineNumber
                    continue
                }
                throw CLIError("line \(lineNumber): field \(bad + 1) \"\(fields[bad].prefix(40))\" is not a finite number")
            }
            if let columns, fields.count != columns {
                throw CLIError("line \(lineNumber) has \(fields.count) fields, line \(columnsLine) has \(columns)")
            }
            if columns == nil {
                guard fields.count <= LearningLimits.featuresMax + 1 else {
                    throw CLIError("line \(lineNumber): \(fields.count) fields exceed \(LearningLimits.featuresMax + 1)")
                }
                columns = fields.count
                columnsLine = lineNumber
            }
            guard rows.count < LearningLimits.datasetRowsMax else { throw CLIError("more than \(LearningLimits.datasetRowsMax) rows") }
            rows.append(numbers.map { $0! })
        }
        guard let columns, !rows.isEmpty else {
            throw CLIError(columns == nil ? "no rows of numbers (an empty file)"
                : "no rows of numbers (line \(columnsLine), which holds a field that is not a number, is read as a header)")
        }
        return (rows, columns)
    }

    /// A whole number in 0..<classesMax: what a label is.
    static func isLabel(_ value: Double) -> Bool {
        value >= 0 && value == value.rounded() && value < Double(LearningLimits.classesMax)
    }

    private static func with(_ input: InferInput, labels: [Int]?, note: String) -> InferInput {
        var copy = input
        copy.labels = labels
        copy.labelNote = note
        return copy
    }
}
