import Foundation
import StarlingStore
import Testing

/// Imported starting models (`starling model import`): one per name, replaced by a re-import,
/// kept across reopening.
@Suite struct ImportedModelStoreTests {
    static func record(_ name: String, hash: Character, at time: UInt64) -> ImportedModelRecord {
        ImportedModelRecord(name: name, hash: String(repeating: hash, count: 64), path: "/data/\(name).safetensors",
                            bytes: 1_000, tensors: 2, parameters: 240, importedAt: time)
    }

    @Test func aNameIsReplacedByItsReimportAndKeptAcrossReopening() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = Self.record("start", hash: "a", at: 1)
        let second = Self.record("start", hash: "b", at: 2)
        let other = Self.record("base", hash: "c", at: 3)
        do {
            let store = try Store(directory: directory)
            #expect(try store.saveImportedModel(first) == nil)
            #expect(try store.saveImportedModel(other) == nil)
            #expect(try store.saveImportedModel(second) == first, "the re-import says what it replaced")
        }
        let reopened = try Store(directory: directory)
        #expect(try reopened.importedModels() == [other, second])
        #expect(try reopened.removeImportedModel(named: "start") == second)
        #expect(try reopened.removeImportedModel(named: "start") == nil)
        #expect(try reopened.importedModels() == [other])
    }
}
