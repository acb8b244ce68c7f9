/// Reading and writing data set files.
public enum DatasetFile {
    /// CSV: numeric columns separated by commas, the label (a whole number ≥ 0) in the LAST column,
    /// an optional header line (detected: a first line with a field that is not a number), no
    /// quoting, `\n` or `\r\n` line ends, blank lines skipped. The class count is the largest label + 1.
    ///
    /// npz (`np.savez`, `np.savez_compressed`): arrays `x` (2-D; float32, float64 or an integer type)
    /// and `y` (1-D; an integer type, or floats holding whole numbers); stored or deflated members;
    /// npy format versions 1, 2 and 3; little endian; C order.
    public static func decode(_ bytes: [UInt8], format: DatasetFormat) throws(LearningError) -> LabeledData {
        guard bytes.count <= LearningLimits.datasetBytesMax else {
            throw LearningError("data set of \(bytes.count) bytes exceeds \(LearningLimits.datasetBytesMax)")
        }
        switch format {
        case .csv: return try decodeCSV(bytes)
        case .npz: return try NPZ.decode(bytes)
        }
    }

    /// The CSV form `decode` reads: no header, features then the label, shortest round-trip numbers.
    public static func encodeCSV(_ data: LabeledData) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.features.count * 4)
        for row in 0..<data.count {
            for column in 0..<data.featureCount {
                let value = data.features[row * data.featureCount + column]
                out.append(contentsOf: Array(value.description.utf8))
                out.append(UInt8(ascii: ","))
            }
            out.append(contentsOf: Array(String(data.labels[row]).utf8))
            out.append(0x0A)
        }
        return out
    }

    /// Decompresses gzip data (at most `LearningLimits.datasetBytesMax` bytes out).
    public static func gunzip(_ bytes: [UInt8]) throws(LearningError) -> [UInt8] {
        guard bytes.count >= 18, bytes[0] == 0x1F, bytes[1] == 0x8B else { throw LearningError("gzip: not gzip data (no 1f 8b header)") }
        return try Zlib.inflate(bytes, gzip: true, what: "gzip")
    }

    static func decodeCSV(_ bytes: [UInt8]) throws(LearningError) -> LabeledData {
        var features: [Float] = []
        var labels: [Int32] = []
        var columns: Int?
        var columnsLine = 0
        var lineNumber = 0
        var start = 0
        var maxLabel: Int32 = -1
        var row: [Float] = []
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            defer { start = end + 1 }
            if bytes[start..<lineEnd].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            row.removeAll(keepingCapacity: true)
            var fieldStart = start
            var fieldNumber = 0
            var nonNumeric: (Int, String)?
            while fieldStart <= lineEnd {
                var fieldEnd = fieldStart
                while fieldEnd < lineEnd && bytes[fieldEnd] != UInt8(ascii: ",") { fieldEnd += 1 }
                fieldNumber += 1
                var a = fieldStart, b = fieldEnd
                while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
                while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
                let text = String(decoding: bytes[a..<b], as: UTF8.self)
                if let value = Float(text), value.isFinite {
                    row.append(value)
                } else if nonNumeric == nil {
                    nonNumeric = (fieldNumber, text)
                }
                fieldStart = fieldEnd + 1
            }
            if let (field, text) = nonNumeric {
                if columns == nil && labels.isEmpty && columnsLine == 0 {
                    columns = fieldNumber  // header line
                    columnsLine = lineNumber
                    continue
                }
                throw LearningError("CSV line \(lineNumber): field \(field) \"\(text.prefix(40))\" is not a finite number")
            }
            if let columns {
                guard fieldNumber == columns else {
                    throw LearningError("CSV line \(lineNumber) has \(fieldNumber) fields, line \(columnsLine) has \(columns)")
                }
            } else {
                guard fieldNumber >= 2 else { throw LearningError("CSV line \(lineNumber): at least one feature and a label are needed") }
                guard fieldNumber - 1 <= LearningLimits.featuresMax else {
                    throw LearningError("CSV line \(lineNumber): \(fieldNumber - 1) features exceed \(LearningLimits.featuresMax)")
                }
                columns = fieldNumber
                columnsLine = lineNumber
            }
            let label = row.removeLast()
            guard label >= 0, label == label.rounded(), label < Float(LearningLimits.classesMax) else {
                throw LearningError("CSV line \(lineNumber): label \(label) is not a whole number in 0..<\(LearningLimits.classesMax)")
            }
            guard labels.count < LearningLimits.datasetRowsMax else {
                throw LearningError("CSV: more than \(LearningLimits.datasetRowsMax) rows")
            }
            features.append(contentsOf: row)
            labels.append(Int32(label))
            maxLabel = max(maxLabel, Int32(label))
        }
        guard let columns, !labels.isEmpty else { throw LearningError("CSV: no data rows") }
        return try LabeledData(features: features, labels: labels, featureCount: columns - 1, classCount: Int(maxLabel) + 1)
    }
}
