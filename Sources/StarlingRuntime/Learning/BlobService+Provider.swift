import StarlingCrypto
import StarlingPeer

extension BlobService: BlobProvider {
    func fetchBlob(_ id: ContentHash, from sources: [BlobSource], completion: @escaping (Result<String, RuntimeError>) -> Void) {
        fetch(id, sources: sources) { result in
            completion(result.mapError { RuntimeError("\($0)") })
        }
    }
}
