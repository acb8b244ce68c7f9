import Foundation
import NIOHTTP1

/// The endpoint's routes (Open Inference Protocol v2, HTTP/REST), read from a request's method and
/// URI. Model names are percent-decoded (tritonclient quotes them); the query is ignored; a model
/// version (`/versions/V/`) is accepted and not passed on (a Starling service has one version).
enum InferenceRoute: Equatable {
    case live
    case ready
    case serverMetadata
    case modelMetadata(String)
    case modelReady(String)
    case infer(String)

    /// Why a request matched no route.
    enum Refusal: Error, Equatable {
        case notFound(path: String)
        case methodNotAllowed(path: String, allowed: HTTPMethod)
    }

    static func match(method: HTTPMethod, uri: String) -> Result<InferenceRoute, Refusal> {
        let path = String(uri.prefix { $0 != "?" && $0 != "#" })
        guard let (route, allowed) = route(path: path) else { return .failure(.notFound(path: path)) }
        guard method == allowed else { return .failure(.methodNotAllowed(path: path, allowed: allowed)) }
        return .success(route)
    }

    /// The route at `path` and the one method it answers.
    private static func route(path: String) -> (InferenceRoute, HTTPMethod)? {
        guard path.hasPrefix("/") else { return nil }
        var segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.count > 1, segments.last == "" { segments.removeLast() }
        guard segments.first == "v2" else { return nil }
        let rest = Array(segments.dropFirst())
        switch rest.count {
        case 0: return (.serverMetadata, .GET)
        case 2 where rest == ["health", "live"]: return (.live, .GET)
        case 2 where rest == ["health", "ready"]: return (.ready, .GET)
        default: break
        }
        guard rest.count >= 2, rest[0] == "models", let model = rest[1].removingPercentEncoding, !model.isEmpty else { return nil }
        var tail = Array(rest.dropFirst(2))
        if tail.count >= 2, tail[0] == "versions", !tail[1].isEmpty { tail.removeFirst(2) }
        switch tail {
        case []: return (.modelMetadata(model), .GET)
        case ["ready"]: return (.modelReady(model), .GET)
        case ["infer"]: return (.infer(model), .POST)
        default: return nil
        }
    }
}
