import Foundation
import StarlingCrypto
import StarlingLearning
import StarlingMembership
import StarlingPeer
@testable import StarlingRuntime
import StarlingStore
import StarlingTasks
import Testing

/// `model-import`: a starting model is checked, stored as a blob other peers fetch by its hash,
/// recorded durably and declared in the peer's tags; round 0's hold of it is no commit; the
/// retention of a task's models spares it.
@Suite(.serialized) struct ModelImportTests {
    @Test func anImportedModelIsStoredDeclaredAndServedByItsHash() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try ModelPeer.start(on: loop, seed: 1)
        defer { a.remove() }
        let b = try BlobPeer.start(on: loop, seed: 2)
        let file = "\(a.directory)/start.safetensors"
        let bytes = SafeTensors.encode(try ModelFiles.weights(0.5))
        try ModelFiles.write(bytes, to: file)

        let imported = try a.request(["command": "model-import", "name": "digits-start", "path": file], on: loop)
        #expect(imported["ok"] as? Bool == true, "\(imported)")
        let hex = try #require(imported["hash"] as? String)
        let hash = try ContentHash(hex: hex)
        #expect((imported["message"] as? String)?.hasPrefix("model digits-start imported: \(hex.prefix(16)), 2 tensors, 9 parameters") == true,
                "\(imported)")
        // Durable: another handle on the store sees it; declared in the tags, the others kept.
        let record = try #require(try Store(directory: a.directory).importedModels().first)
        #expect(record.name == "digits-start" && record.hash == hex && record.path == file && record.parameters == 9)
        #expect(a.localTags == ["role": "edge", "model.digits-start": hex])
        #expect(ModelTags.hash(of: "digits-start", tags: a.localTags) == hash)
        let list = try a.request(["command": "model-list"], on: loop)
        let listed = try #require((list["imported"] as? [[String: Any]])?.first)
        #expect(listed["name"] as? String == "digits-start" && listed["hash"] as? String == hex && listed["held"] as? Bool == true)

        // Another peer's BlobService fetches it by its hash: the very bytes of the file.
        let fetched = FetchResult()
        b.blobs.fetch(hash, sources: [a.source]) { fetched.result = $0 }
        #expect(loop.run(until: { fetched.isDone }, timeout: patience))
        #expect(try b.blobs.read(hash) == bytes, "\(String(describing: fetched.result))")

        // Importing the name again replaces it, says so, and deletes the old contents here.
        try ModelFiles.write(SafeTensors.encode(try ModelFiles.weights(7)), to: file)
        let again = try a.request(["command": "model-import", "name": "digits-start", "path": file], on: loop)
        let newHex = try #require(again["hash"] as? String)
        #expect(newHex != hex)
        #expect((again["message"] as? String)?.contains("it replaces \(hex.prefix(16)) (imported from \(file)), deleted here") == true,
                "\(again)")
        #expect(!a.blobs.holds(hash))
        #expect(try a.store.importedModels().map(\.hash) == [newHex])
        #expect(a.localTags["model.digits-start"] == newHex)

        // Removing it forgets the name and its tag.
        let removed = try a.request(["command": "model-remove", "name": "digits-start"], on: loop)
        #expect(removed["ok"] as? Bool == true, "\(removed)")
        #expect(try a.store.importedModels().isEmpty && a.localTags == ["role": "edge"])
    }

    @Test func aBadFileOrNameIsRefusedNamingWhatIsWrong() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try ModelPeer.start(on: loop, seed: 1)
        defer { a.remove() }
        let nan = "\(a.directory)/nan.safetensors"
        var weights = try ModelFiles.weights(1)
        weights.tensors[1].values[4] = .nan
        try ModelFiles.write(SafeTensors.encode(weights), to: nan)
        let double = "\(a.directory)/f64.safetensors"
        try ModelFiles.write(ModelFiles.float64(), to: double)
        let text = "\(a.directory)/notes.safetensors"
        try ModelFiles.write(Array("not a model".utf8), to: text)

        func refusal(_ name: String, _ path: String) throws -> String {
            let answer = try a.request(["command": "model-import", "name": name, "path": path], on: loop)
            #expect(answer["ok"] as? Bool == false)
            return answer["message"] as? String ?? "\(answer)"
        }
        #expect(try refusal("m", nan) == "\(nan): not a usable safetensors model: tensor weight holds nan at index 4")
        #expect(try refusal("m", double).hasPrefix("\(double): tensor w is F64; a starting model is float32 (F32) throughout"))
        #expect(try refusal("m", text).hasPrefix("\(text): not a usable safetensors model: safetensors:"))
        #expect(try refusal("m", "\(a.directory)/missing.safetensors") == "\(a.directory)/missing.safetensors: no such file")
        #expect(try refusal("", nan) == "a model name must not be empty")
        #expect(try refusal(String(repeating: "m", count: 123), nan).contains("at most 122 bytes"))
        #expect(try a.store.importedModels().isEmpty && a.localTags == ["role": "edge"])

        // At most ModelTags.modelsMax names; re-importing one of them still works.
        let good = "\(a.directory)/good.safetensors"
        try ModelFiles.write(SafeTensors.encode(try ModelFiles.weights(2)), to: good)
        for index in 0..<ModelTags.modelsMax {
            #expect(try a.request(["command": "model-import", "name": "m\(index)", "path": good], on: loop)["ok"] as? Bool == true)
        }
        #expect(try refusal("one-more", good).contains("declares \(ModelTags.modelsMax) imported models already"))
        #expect(try a.request(["command": "model-import", "name": "m0", "path": good], on: loop)["ok"] as? Bool == true)
    }

    /// A task runner of `peer`'s blobs and store, its answers collected.
    final class Runner {
        var results: [TaskWorkResult] = []
        var runner: TaskRunner!

        init(_ peer: ModelPeer, loop: EventLoop) {
            runner = TaskRunner(loop: loop, blobs: peer.blobs, store: peer.store, dataDirectory: peer.directory, launcher: nil, python: nil,
                                socketPath: "\(peer.directory)/starling.sock", counters: RuntimeCounters(),
                                deliver: { [unowned self] input in
                                    if case let .workDone(result) = input { self.results.append(result) }
                                },
                                log: { _, _ in })
        }
    }

    @Test func aCoordinatorHoldsAnImportedModelAsRoundOnesBaseWithoutRecordingACommit() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try ModelPeer.start(on: loop, seed: 1)
        defer { a.remove() }
        let b = try ModelPeer.start(on: loop, seed: 2)
        defer { b.remove() }
        let file = "\(a.directory)/start.safetensors"
        try ModelFiles.write(SafeTensors.encode(try ModelFiles.weights(3)), to: file)
        let imported = try a.request(["command": "model-import", "name": "start", "path": file], on: loop)
        let hash = try ContentHash(hex: try #require(imported["hash"] as? String))

        let runner = Runner(b, loop: loop)
        let task = TaskID(hash: ContentHash.of(Array("task".utf8)))
        runner.runner.perform(.holdModel(task: task, round: 0, model: hash, sources: [a.source]))
        #expect(loop.run(until: { !runner.results.isEmpty }, timeout: patience))
        #expect(runner.results == [.modelHeld(hash)])
        #expect(b.blobs.holds(hash))
        #expect(try b.store.models().isEmpty, "a starting model is not a committed round")
    }

    @Test func theRetentionOfATasksModelsSparesABlobAnImportedModelNames() throws {
        let loop = try EventLoop()
        defer { loop.close() }
        let a = try ModelPeer.start(on: loop, seed: 1)
        defer { a.remove() }
        let runner = Runner(a, loop: loop)
        let task = TaskID(hash: ContentHash.of(Array("task".utf8)))
        let rounds = UInt64(WorkerLimits.modelsPerTaskMax + 2)
        var hashes: [ContentHash] = []
        for round in 1...rounds {
            let model = try ModelFiles.weights(Float(round), metadata: ModelMetadata.forModel(
                task: task, name: "t", epoch: 1, round: round, metrics: [:]))
            hashes.append(try a.blobs.importBytes(SafeTensors.encode(model)))
        }
        // Round 1's model, exported and imported again as another task's start.
        try a.store.saveImportedModel(ImportedModelRecord(name: "warm", hash: hashes[0].hex, path: "/x", bytes: 1, tensors: 2,
                                                          parameters: 9, importedAt: 1))
        for (index, hash) in hashes.enumerated() {
            runner.runner.modelArrived(hash, task: task, taskName: "t", round: UInt64(index + 1), epoch: 1)
        }
        #expect(try a.store.models().count == WorkerLimits.modelsPerTaskMax)
        #expect(a.blobs.holds(hashes[0]), "the imported model's blob stays")
        #expect(!a.blobs.holds(hashes[1]), "round 2 is beyond the retention")
        #expect(a.blobs.holds(hashes.last!))
    }
}
