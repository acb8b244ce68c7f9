import Foundation
import StarlingCrypto
import StarlingLearning
import StarlingLocalAPI
import StarlingPeer
import StarlingStore
import StarlingTasks

/// The local API's model commands (docs/cli.md, "model"): `model-list`, `model-import`,
/// `model-remove`, `model-export` (`LocalRequest`, answered with the types it names).
extension TaskRunnerCommands {
    // MARK: List

    func modelList() -> ModelListResponse {
        func held(_ hex: String) -> Bool { (try? ContentHash(hex: hex)).map(runner.blobs.holds) ?? false }
        let models = ((try? runner.store?.models()) ?? []).map { model in
            Model(hash: model.hash, task: model.task, taskName: model.taskName, round: model.round, epoch: model.epoch,
                  metrics: model.metrics, bytes: model.bytes, parameters: model.parameters, savedAt: model.savedAt,
                  held: held(model.hash))
        }
        let imported = ((try? runner.store?.importedModels()) ?? []).map { model in
            ImportedModel(name: model.name, hash: model.hash, path: model.path, bytes: model.bytes, tensors: model.tensors,
                          parameters: model.parameters, importedAt: model.importedAt, held: held(model.hash))
        }
        return ModelListResponse(models: models, imported: imported)
    }

    // MARK: Import

    /// Checks the file, stores it as a blob (what BlobService serves by hash), records the name
    /// durably, then declares it in this peer's tags (`ModelTags`).
    func modelImport(name: String, path: String) -> ModelImportResponse {
        guard let store = runner.store else { return ModelImportResponse(ok: false, message: "this peer has no store") }
        if let problem = ModelTags.problem(withName: name) { return ModelImportResponse(ok: false, message: problem) }
        guard path.hasPrefix("/") else {
            return ModelImportResponse(ok: false, message: "model-import needs \"path\": an absolute path")
        }
        let existing = (try? store.importedModels()) ?? []
        guard existing.contains(where: { $0.name == name }) || existing.count < ModelTags.modelsMax else {
            return ModelImportResponse(ok: false, message: "this peer declares \(ModelTags.modelsMax) imported models already (ModelTags.modelsMax): "
                + "\(existing.map(\.name).joined(separator: ", ")); remove one first (starling model remove NAME)")
        }
        let file: ImportedModelFile
        do { file = try ImportedModelFile(path: path) } catch { return ModelImportResponse(ok: false, message: "\(error)") }
        let hash: ContentHash
        let previous: ImportedModelRecord?
        do {
            hash = try runner.blobs.importBytes(file.bytes)
            previous = try store.saveImportedModel(ImportedModelRecord(
                name: name, hash: hash.hex, path: path, bytes: UInt64(file.bytes.count),
                tensors: UInt64(file.weights.tensors.count), parameters: UInt64(file.weights.parameterCount),
                importedAt: UnixClock.now()))
        } catch {
            return ModelImportResponse(ok: false, message: "cannot store the model: \(error)")
        }
        var message = "model \(name) imported: \(hash.hex.prefix(16)), \(file.weights.tensors.count) tensors, "
            + "\(file.weights.parameterCount) parameters, \(file.bytes.count) bytes"
        if let previous, previous.hash != hash.hex {
            message += "; it replaces \(previous.hash.prefix(16)) (imported from \(previous.path))"
                + (removeBlobIfUnused(previous.hash) ? ", deleted here" : "")
        } else if previous != nil {
            message += " (the same contents as before)"
        }
        let announced = announceStoreTags()
        message += announced.ok ? "; declared as tag \(ModelTags.tag(for: name))" : "; NOT declared to the cluster: \(announced.message)"
        return ModelImportResponse(ok: announced.ok, message: message, hash: hash.hex, name: name)
    }

    func modelRemove(_ name: String) -> OutcomeResponse {
        guard let store = runner.store else { return OutcomeResponse(ok: false, message: "this peer has no store") }
        let removed: ImportedModelRecord?
        do { removed = try store.removeImportedModel(named: name) } catch { return OutcomeResponse(ok: false, message: "\(error)") }
        guard let removed else { return OutcomeResponse(ok: false, message: "no imported model \(name) on this peer (starling model list)") }
        let deleted = removeBlobIfUnused(removed.hash)
        let announced = announceStoreTags()
        return OutcomeResponse(ok: announced.ok, message: "imported model \(name) (\(removed.hash.prefix(16))) removed"
            + (deleted ? " and its blob deleted" : "") + " (\(announced.message))")
    }

    /// Deletes a blob no imported name and no committed model recorded here names any more.
    private func removeBlobIfUnused(_ hex: String) -> Bool {
        guard let store = runner.store, let hash = try? ContentHash(hex: hex),
              let imported = try? store.importedModels(), let models = try? store.models(),
              !imported.contains(where: { $0.hash == hex }), !models.contains(where: { $0.hash == hex }) else { return false }
        return (try? runner.blobs.remove(hash)) != nil
    }

    // MARK: Export

    /// A task's last committed model (fetched first when this peer lacks it), or a model named
    /// by its hash prefix.
    func modelExport(_ reference: String, out: String) -> LocalAPIAnswer {
        guard !reference.isEmpty, out.hasPrefix("/") else {
            return .now(Self.refusal("model-export needs \"model\" (a task name or id, or a model hash prefix) "
                + "and \"out\" (an absolute path)"))
        }
        let store = runner.store
        let lowered = reference.lowercased()
        if reference.count >= 8, lowered.allSatisfy(\.isHexDigit) {
            if let model = ((try? store?.models()) ?? []).first(where: { $0.hash.hasPrefix(lowered) }),
               let hash = try? ContentHash(hex: model.hash), runner.blobs.holds(hash) {
                return .now(write(hash, to: out, message: "model of \(model.taskName) round \(model.round)",
                                  fields: ModelExportResponse(ok: true, message: "", fetched: false, round: model.round)))
            }
            if let model = ((try? store?.importedModels()) ?? []).first(where: { $0.hash.hasPrefix(lowered) }),
               let hash = try? ContentHash(hex: model.hash), runner.blobs.holds(hash) {
                return .now(write(hash, to: out, message: "imported model \(model.name)",
                                  fields: ModelExportResponse(ok: true, message: "", fetched: false)))
            }
        }
        guard let task = task(reference) else {
            return .now(Self.refusal("no task and no model \(reference) is known on this peer "
                + "(starling task list, starling model list)"))
        }
        let plan: ModelExportPlan
        do { plan = try ModelExportPlan(task: task, members: members()) } catch { return .now(Self.refusal("\(error)")) }
        let hash = plan.round.modelHash
        var fields = ModelExportResponse(ok: true, message: "", round: plan.round.round, rounds: task.rounds, phase: task.phase)
        if runner.blobs.holds(hash) {
            fields.fetched = false
            return .now(write(hash, to: out, message: "model of \(task.name) \(plan.progress)", fields: fields))
        }
        let held = heldRound(of: task)
        guard !plan.sources.isEmpty else {
            return .now(Self.refusal(plan.unavailable(heldRound: held, because: plan.noSourceReason)))
        }
        fields.fetched = true
        return .later(within: LocalAPILimits.modelExportWaitMax + LocalAPILimits.requestTimeout) { [runner, fields] reply in
            var answered = false
            func answer(_ line: [UInt8]) {
                guard !answered else { return }
                answered = true
                reply(line)
            }
            let from = "from \(plan.sourceNames.joined(separator: ", "))"
            // The fetch may outlast the wait; it goes on, and the next export finds the model here.
            let timer = try? LoopTimer(loop: runner.loop)
            timer?.start(after: LocalAPILimits.modelExportWaitMax) {
                timer?.close()
                answer(Self.refusal(plan.unavailable(heldRound: held, because: "fetching it \(from) took over "
                    + "\(LocalAPILimits.modelExportWaitMax) (LocalAPILimits.modelExportWaitMax); the fetch goes on: run the command again")))
            }
            timer?.unreference()
            runner.blobs.fetchBlob(hash, from: plan.sources) { result in
                timer?.close()
                switch result {
                case .success:
                    runner.modelArrived(hash, task: task.id, taskName: task.name, round: plan.round.round, epoch: plan.round.epoch)
                    let lacked = held.map { "this peer held round \($0)" } ?? "this peer held no model of the task"
                    answer(write(hash, to: out, message: "model of \(task.name) \(plan.progress)",
                                 note: " (fetched \(from): \(lacked))", fields: fields))
                case let .failure(error):
                    answer(Self.refusal(plan.unavailable(heldRound: held, because: "fetching it \(from) failed: \(error)")))
                }
            }
        }
    }

    /// The latest round of `task` whose model this peer holds, if any.
    private func heldRound(of task: TaskSummary) -> UInt64? {
        ((try? runner.store?.models()) ?? [])
            .filter { $0.task == task.id.text && ((try? ContentHash(hex: $0.hash)).map(runner.blobs.holds) ?? false) }
            .map(\.round).max()
    }

    /// Copies a held blob to `out` (replacing it) and says so.
    /// `fields` holds the answer's round, rounds, phase and fetched.
    private func write(_ hash: ContentHash, to out: String, message: String, note: String = "", fields: ModelExportResponse) -> [UInt8] {
        guard let source = runner.blobs.filePath(of: hash) else { return Self.refusal("model \(hash.hex.prefix(16)) is no longer held here") }
        do {
            let bytes = try POSIXFile.read(source, limit: LearningLimits.modelBytesMax)
            try POSIXFile.writeAtomically(bytes, to: out, mode: 0o644, replace: true)
        } catch {
            return Self.refusal("cannot write \(out): \(error)")
        }
        var answer = fields
        answer.ok = true
        answer.message = "\(message) written to \(out)\(note)"
        answer.path = out
        answer.hash = hash.hex
        return LocalAPI.line(answer)
    }

    /// A model-export that could not be done, and why.
    static func refusal(_ message: String) -> [UInt8] { LocalAPI.line(ModelExportResponse(ok: false, message: message)) }
}
