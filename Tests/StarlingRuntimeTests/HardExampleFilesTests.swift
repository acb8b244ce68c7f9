import Foundation
@testable import StarlingRuntime
import Testing

/// Hard examples kept for incremental learning: CSV rows, bounded, oldest dropped first.
@Suite struct HardExampleFilesTests {
    @Test func theFilesStayWithinTheBoundAndKeepTheNewest() throws {
        let directory = NSTemporaryDirectory() + "hard-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = HardExampleFiles(directory: directory, name: "kept")
        let total = ServingLimits.hardExamplesMax + 17
        for index in 0..<total {
            #expect(files.append(features: [Float(index), 0.5][...], label: index % 10))
        }
        func rows(_ path: String) -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let current = rows(files.path), previous = rows(files.previousPath)
        #expect(current.count + previous.count <= ServingLimits.hardExamplesMax)
        #expect(current.count + previous.count >= ServingLimits.hardExamplesMax / 2)
        #expect(current.last == "\(Float(total - 1)),0.5,\((total - 1) % 10)")
        #expect(previous.first != "0.0,0.5,0", "the oldest were dropped")
        // Reopened (a restart), it counts what the file holds and goes on appending.
        let reopened = HardExampleFiles(directory: directory, name: "kept")
        #expect(reopened.append(features: [1, 2][...], label: 3))
        #expect(rows(files.path).last == "1.0,2.0,3")
    }
}
