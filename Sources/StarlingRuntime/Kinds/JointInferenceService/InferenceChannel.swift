import StarlingLocalAPI

/// An inference worker's connection, after its `worker-serve` hello (docs/workers.md, "Inference
/// workers"): the peer writes `ServeJob` lines and the worker answers each, in order. This class
/// matches answers to jobs (oldest first) and bounds what the worker can make the peer hold: a
/// line over `LocalAPILimits.serveLineBytesMax`, a line that is no answer, an answer nobody asked
/// for, or no answer within `serveAnswerTimeout` closes the channel with the reason.
final class InferenceChannel {
    private let connection: StreamConnection
    private var buffer: [UInt8] = []
    private var waiting: [(ServeAnswer?) -> Void] = []
    private var waitingStart = 0
    private(set) var isClosed = false
    /// Once, when the channel closes (the worker went, or broke the protocol); every job still
    /// waiting has been answered nil first.
    var onClosed: ((String) -> Void)?

    init(connection: StreamConnection) {
        self.connection = connection
        connection.onEvent = { [unowned self] event in self.event(event) }
    }

    /// Starts reading (after the owner set `onClosed`), with bytes that came after the hello.
    func start(leftover: [UInt8]) {
        connection.startReading()
        if !leftover.isEmpty { received(leftover) }
    }

    var outstanding: Int { waiting.count - waitingStart }

    /// Writes `job`; `answer` gets its answer (nil if the channel closes first). A `stop` has none.
    func send(_ job: ServeJob, answer: ((ServeAnswer?) -> Void)? = nil) {
        guard !isClosed else {
            answer?(nil)
            return
        }
        switch connection.write(job.line) {
        case .queued:
            if let answer {
                if outstanding == 0 { connection.setDeadline(after: LocalAPILimits.serveAnswerTimeout) }
                waiting.append(answer)
            }
        case .overBudget, .failed:
            answer?(nil)
            close("the peer could not write to the worker")
        }
    }

    func close(_ reason: String) {
        guard !isClosed else { return }
        isClosed = true
        connection.close()
        let pending = waiting[waitingStart...]
        waiting = []
        waitingStart = 0
        for answer in pending { answer(nil) }
        onClosed?(reason)
        onClosed = nil
    }

    private func event(_ event: StreamConnection.Event) {
        switch event {
        case let .received(bytes): received(bytes)
        case .endOfStream: close("the worker closed its connection")
        case let .failed(operation, status): close("\(operation.rawValue) failed: \(UVStatus.text(status))")
        case .deadlinePassed: close("the worker did not answer within \(LocalAPILimits.serveAnswerTimeout)")
        case .connected, .wrote, .shutDown: break
        }
    }

    private func received(_ bytes: [UInt8]) {
        var start = bytes.startIndex
        while !isClosed, let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            buffer.append(contentsOf: bytes[start..<newline])
            start = newline + 1
            let line = buffer
            buffer.removeAll(keepingCapacity: true)
            answered(line)
        }
        guard !isClosed else { return }
        buffer.append(contentsOf: bytes[start...])
        if buffer.count > LocalAPILimits.serveLineBytesMax {
            close("the worker sent a line over \(LocalAPILimits.serveLineBytesMax) bytes")
        }
    }

    private func answered(_ line: [UInt8]) {
        guard !line.isEmpty else { return }
        let answer: ServeAnswer
        do {
            answer = try LocalAPI.decode(ServeAnswer.self, from: line)
        } catch {
            return close("the worker sent a line that is no answer: \(error)")
        }
        guard outstanding > 0 else { return close("the worker answered a job it was not given") }
        let waiter = waiting[waitingStart]
        waitingStart += 1
        if waitingStart > 64 && waitingStart * 2 > waiting.count {
            waiting.removeFirst(waitingStart)
            waitingStart = 0
        }
        if outstanding == 0 { connection.clearDeadline() } else { connection.setDeadline(after: LocalAPILimits.serveAnswerTimeout) }
        waiter(answer)
    }
}
