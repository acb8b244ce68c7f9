import StarlingCrypto
import StarlingMembership
@testable import StarlingTasks
import Testing

/// `ModelTags`: how imported starting models are declared in membership tags and read back.
@Suite struct ModelTagsTests {
    let start = ContentHash.of(Array("the starting model".utf8))
    let other = ContentHash.of(Array("other contents".utf8))

    @Test func aDeclaredModelReadsBackByName() {
        let tags = [ModelTags.tag(for: "digits-start"): ModelTags.value(for: start), "role": "edge",
                    "dataset.digits": "csv,52311,287"]
        #expect(ModelTags.tag(for: "digits-start") == "model.digits-start")
        #expect(ModelTags.value(for: start) == start.hex && start.hex.count == 64)
        #expect(ModelTags.hash(of: "digits-start", tags: tags) == start)
        #expect(ModelTags.hash(of: "digits", tags: tags) == nil, "a dataset of that name is no model")
        #expect(ModelTags.hash(of: "other", tags: tags) == nil)
        #expect(ModelTags.declared(in: tags) == [ModelTags.Declared(name: "digits-start", hash: start)])
    }

    @Test func malformedValuesDeclareNothing() {
        let name = "m"
        let malformed = [
            start.hex.uppercased(),            // one spelling per hash
            String(start.hex.dropLast()),      // 63 characters
            start.hex + "0",                   // 65
            String(start.hex.dropLast()) + "g",
            ModelHash.none.hex,                // "no model" is not a model
            "",
        ]
        for value in malformed {
            #expect(ModelTags.hash(of: name, tags: [ModelTags.tag(for: name): value]) == nil, "\(value)")
            #expect(ModelTags.declared(in: [ModelTags.tag(for: name): value]).isEmpty, "\(value)")
        }
    }

    @Test func declarationsAreListedByNameAndConflictsGroupedByContents() {
        let tags = [ModelTags.tag(for: "zeta"): other.hex, ModelTags.tag(for: "alpha"): start.hex, ModelTags.tag(for: "bad"): "x"]
        #expect(ModelTags.declared(in: tags).map(\.name) == ["alpha", "zeta"])

        let peers: [(peer: String, tags: [String: String])] = [
            ("edge-a", [ModelTags.tag(for: "m"): start.hex]),
            ("edge-b", ["role": "edge"]),
            ("edge-c", [ModelTags.tag(for: "m"): other.hex]),
            ("edge-d", [ModelTags.tag(for: "m"): start.hex]),
        ]
        #expect(ModelTags.declarers(of: "m", among: peers) == [start: ["edge-a", "edge-d"], other: ["edge-c"]])
        #expect(ModelTags.declarers(of: "m", among: Array(peers.prefix(2))) == [start: ["edge-a"]])
        #expect(ModelTags.declarers(of: "n", among: peers).isEmpty)
    }

    @Test func namesFollowTheSpecRulesAndFitATag() {
        let settings = MembershipSettings()
        #expect(ModelTags.nameBytesMax == 122)
        #expect(ModelTags.problem(withName: "digits-start") == nil)
        #expect(ModelTags.problem(withName: "ResNet 18 (ImageNet)") == nil, "a spec's model name is any text")
        #expect(ModelTags.problem(withName: "")?.contains("empty") == true)
        let longest = String(repeating: "é", count: ModelTags.nameBytesMax / 2)  // 2 bytes each
        #expect(ModelTags.problem(withName: longest) == nil)
        #expect(ModelTags.problem(withName: longest + "x")?.contains("at most 122 bytes") == true)
        // The longest name's tag, and any hash, fit membership's limits; so do the most declarations.
        #expect(ModelTags.tag(for: longest).utf8.count == settings.tagBytesMax)
        #expect(ModelTags.value(for: start).utf8.count <= settings.tagBytesMax)
        #expect(ModelTags.modelsMax + DatasetTags.datasetsMax < settings.tagsMax)
    }
}
