import Foundation
import StarlingLocalAPI

/// Inference workers in the Swift Lib (docs/workers.md, "Inference workers"): a process a peer
/// started with `STARLING_ROLE` edge or cloud serves one model of `STARLING_SERVICE` until the peer
/// says stop, as the Python Lib's `starling.serve(predict, load)` does.
///
///     try worker.serve(load: { path in try MyModel(path) }, predict: { model, batch in
///         ServingScores(classCount: 10, values: model.probabilities(batch.values)) })
extension WorkerClient {
    /// Connects to the peer (`worker-serve`) and answers its jobs with `load` and `predict` (a
    /// `ServingLoop`); returns when the peer says stop, closes the connection, or answers that it
    /// runs no such worker (code `no-worker`). A peer unreachable for `unreachableLimit` ends the
    /// process with status 3, as `nextRound` does.
    public func serve<Model>(softmax: Bool = false, load: @escaping (String) throws -> Model,
                             predict: @escaping (Model, ServingBatch) throws -> ServingScores) throws {
        guard context.isServing else {
            throw WorkerError("serve is for inference workers (STARLING_ROLE edge or cloud); this process has role \(context.role)")
        }
        let connection = try connect()
        defer { connection.close() }
        guard let line = try connection.readLine() else {
            throw WorkerError("the peer closed the connection without answering worker-serve")
        }
        if let refusal = try? LocalAPI.decode(ErrorResponse.self, from: line) {
            if refusal.code == .noWorker { return }
            throw WorkerError("the peer refused worker-serve: \(refusal.error)")
        }
        do {
            _ = try LocalAPI.decode(ServeWelcome.self, from: line)
        } catch {
            throw WorkerError("the peer's answer to worker-serve is not what was expected (\(error)): "
                + String(decoding: line.prefix(200), as: UTF8.self))
        }
        var loop = ServingLoop(softmax: softmax, load: load, predict: predict)
        try loop.run(connection)
    }

    /// The connection, said hello on; tried again while nobody serves the socket.
    private func connect() throws -> ServeConnection {
        var unreachableSince: ContinuousClock.Instant?
        while true {
            if getppid() != parent { Self.exitOrphaned("the peer that started this worker is gone") }
            do {
                return try ServeConnection.open(socketPath: context.socketPath, hello: ServeHello(identity))
            } catch {
                guard error.kind == .noPeer else { throw WorkerError("worker-serve: \(error)") }
                let since = unreachableSince ?? .now
                unreachableSince = since
                if ContinuousClock.now - since > Self.unreachableLimit {
                    Self.exitOrphaned("the peer has not answered for \(Self.unreachableLimit): \(error)")
                }
                Self.pause()
            }
        }
    }
}
