import Foundation

/// Reading a request's JSON with refusals a person can act on: Foundation's `DecodingError` says
/// what is wrong in a nested context a client never sees, so it is retold as the field's path
/// (`inputs[0].shape`) and what was expected there.
public enum InferenceJSON {
    /// The request in `json` (the whole body, or the binary extension's JSON header).
    public static func request(from json: Data) throws(InferenceAPIError) -> InferRequest {
        try decode(InferRequest.self, from: json)
    }

    /// `json` as a `T`, or a 400 naming the field and what is wrong with it.
    public static func decode<T: Decodable>(_ type: T.Type, from json: Data) throws(InferenceAPIError) -> T {
        do {
            return try JSONDecoder().decode(type, from: json)
        } catch let error as DecodingError {
            throw InferenceAPIError(.badRequest, readable(error, json: json))
        } catch {
            throw InferenceAPIError(.badRequest, "the request is not JSON: \(error)")
        }
    }

    /// `error` as one line: where, then what. `json` is what failed to decode.
    public static func readable(_ error: DecodingError, json: Data) -> String {
        switch error {
        case let .typeMismatch(type, context):
            return "\(location(context)): expected \(name(of: type))"
        case let .valueNotFound(type, context):
            return "\(location(context)): expected \(name(of: type)), found null"
        case let .keyNotFound(key, context):
            let path = context.codingPath.isEmpty ? "the request" : path(context.codingPath)
            return "\(path): missing field \"\(key.stringValue)\""
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return unreadable(json) }
            return "\(location(context)): \(context.debugDescription)"
        @unknown default:
            return "the request does not decode: \(error)"
        }
    }

    /// Foundation's decoder says only "not valid JSON", also for a number that does not fit its
    /// field (1.5 for a shape); the parser tells which it is.
    private static func unreadable(_ json: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
            return "the request has a number that does not fit its field (a fraction or too large where an integer belongs)"
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            return "the request is not valid JSON" + (detail.map { ": \($0)" } ?? "")
        }
    }

    private static func location(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "the request" : path(context.codingPath)
    }

    /// `inputs[0].shape`: keys joined by dots, array positions in brackets.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue { text += "[\(index)]" }
            else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return text
    }

    private static func name(of type: Any.Type) -> String {
        if type == String.self { return "a string" }
        if type == Int.self { return "an integer" }
        if type == Double.self { return "a number" }
        if type == Bool.self { return "a boolean" }
        let text = String(describing: type)
        if text.hasPrefix("Array") || text.contains("UnkeyedDecodingContainer") { return "an array" }
        if text.hasPrefix("Dictionary") || text.contains("KeyedDecodingContainer") { return "an object" }
        return text
    }
}
