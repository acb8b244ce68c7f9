import StarlingLocalAPI

/// The CLI's local API requests: one request to the peer serving a data directory, its answer
/// typed; a refusal, or no answer, becomes a one-line CLIError.
enum PeerRequest {
    /// The answer line (to print with --json) and the answer.
    static func send<Answer: Decodable>(_ request: LocalRequest, to directory: String, as answer: Answer.Type,
                                        timeout: Duration = LocalAPILimits.requestTimeout) throws -> (line: [UInt8], answer: Answer) {
        let client = LocalClient(dataDirectory: directory)
        do {
            let line = try client.line(request, timeout: timeout)
            return (line, try LocalClient.decode(answer, from: line))
        } catch let refusal as ErrorResponse {
            throw CLIError("the peer answered with an error: \(refusal.error)")
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// The answer alone.
    static func answer<Answer: Decodable>(_ request: LocalRequest, to directory: String, as answer: Answer.Type,
                                          timeout: Duration = LocalAPILimits.requestTimeout) throws -> Answer {
        try send(request, to: directory, as: answer, timeout: timeout).answer
    }
}
