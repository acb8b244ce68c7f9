import Foundation
import StarlingStore
import Testing

@Suite struct TaskStoreTests {
    @Test func aTaskStateIsReplacedAndSurvivesReopening() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("starling-tasks-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let id = [UInt8](repeating: 7, count: 32), other = [UInt8](repeating: 3, count: 32)
        do {
            let store = try Store(directory: directory)
            try store.saveTask(id: id, state: [1, 2, 3])
            try store.saveTask(id: other, state: [9])
            try store.saveTask(id: id, state: [4, 5])
        }
        let reopened = try Store(directory: directory)
        #expect(try reopened.loadTasks() == [[9], [4, 5]], "in id order, the last write of each")
    }
}
