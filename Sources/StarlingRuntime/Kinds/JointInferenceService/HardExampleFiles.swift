import Foundation
import StarlingStore

/// Hard examples an edge keeps for incremental learning (`hard_examples_dataset: NAME` among the
/// edge worker's parameters): each hard example the cloud answered, its features and the cloud's
/// class as its label, appended as a CSV row (the `dataset add` format) to
/// `DATA/hard-examples/NAME.csv`. Bounded in rows and bytes (`ServingLimits.hardExamples*`),
/// oldest dropped first: past half the bound the file becomes `NAME.1.csv` (replacing the one
/// before), so the two files hold between half and all of the bound, newest kept. Examples the
/// cloud did not answer have no trustworthy label and are not kept.
final class HardExampleFiles {
    let directory: String
    let name: String
    private var handle: FileHandle?
    private var rows = 0
    private var bytes = 0

    init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    var path: String { "\(directory)/\(name).csv" }
    var previousPath: String { "\(directory)/\(name).1.csv" }

    deinit { try? handle?.close() }

    /// Appends one example; false when the file cannot be written (counted by the caller).
    func append(features: ArraySlice<Float>, label: Int) -> Bool {
        var line = features.map { String($0) }.joined(separator: ",")
        line += ",\(label)\n"
        let data = Data(line.utf8)
        if rows + 1 > ServingLimits.hardExamplesMax / 2 || bytes + data.count > ServingLimits.hardExamplesBytesMax / 2 {
            rotate()
        }
        guard let handle = open() else { return false }
        do {
            try handle.write(contentsOf: data)
        } catch {
            return false
        }
        rows += 1
        bytes += data.count
        return true
    }

    private func open() -> FileHandle? {
        if let handle { return handle }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let opened = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            let end = try opened.seekToEnd()
            bytes = Int(end)
            // Once per service start: the rows a file kept across a restart (bounded by the rotation).
            let kept = bytes == 0 ? [] : (try? POSIXFile.read(path, limit: ServingLimits.hardExamplesBytesMax)) ?? []
            rows = kept.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            handle = opened
            return opened
        } catch {
            return nil
        }
    }

    private func rotate() {
        try? handle?.close()
        handle = nil
        try? FileManager.default.removeItem(atPath: previousPath)
        try? FileManager.default.moveItem(atPath: path, toPath: previousPath)
        rows = 0
        bytes = 0
    }
}
