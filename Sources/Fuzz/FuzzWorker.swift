import Foundation

/// One target in its own process: the seeds first, then mutations of the corpus until the time is up. Accepted
/// inputs join the corpus now and then, so mutations reach deeper into the grammar than the seeds alone.
struct FuzzWorker {
    var seconds: Double
    var seed: UInt64
    static let oracleStatus: Int32 = 5

    func run(name: String, hangSeconds: Double, memoryBytes: UInt64, outputFolder: String) throws {
        let scratch = try Scratch()
        guard let target = (Targets.all(scratch: scratch) + Targets.selfTests()).first(where: { $0.name == name }) else {
            throw FuzzError.unknownTarget(name, [])
        }
        let seeds = try target.seeds()
        CrashGuard.install(target: name, outputFolder: outputFolder, addressSpaceBytes: memoryBytes)
        CrashGuard.startWatchdog(target: name, outputFolder: outputFolder, seconds: hangSeconds)
        var corpus = seeds
        let dictionary = target.dictionary.map { Array($0.utf8) }
        var mutator = Mutator(seed: seed ^ UInt64(truncatingIfNeeded: name.utf8.reduce(5381) { $0 &* 33 &+ Int($1) }),
                              maxLength: max(4096, 2 * (seeds.map(\.count).max() ?? 0)))
        let started = Date()
        var inputs = 0, accepted = 0
        var seedRefusals: [String] = []
        while inputs < seeds.count || inputs % 64 != 0 || Date().timeIntervalSince(started) < seconds {
            let input = inputs < seeds.count ? seeds[inputs]
                : mutator.mutate(corpus[mutator.below(corpus.count)], dictionary: dictionary, other: corpus[mutator.below(corpus.count)])
            CrashGuard.record(input)
            do {
                if try target.run(input) {
                    accepted += 1
                    if corpus.count < 512, mutator.below(8) == 0 { corpus.append(input) }
                }
            } catch let error as FuzzError {
                let path = (outputFolder as NSString).appendingPathComponent("fuzz-oracle-\(name).bin")
                try Data(input).write(to: URL(fileURLWithPath: path))
                FileHandle.standardError.write(Data("azr-fuzz: \(name): \(error); the input is in \(path)\n".utf8))
                exit(Self.oracleStatus)
            } catch {
                // A typed refusal: what a parser should do with a bad input. A refused seed is reported, since
                // mutations of it mostly exercise the parser's first checks.
                if inputs < seeds.count { seedRefusals.append("seed \(inputs + 1): \(String("\(error)".prefix(300)))") }
            }
            inputs += 1
        }
        let result = FuzzResult(target: name, summary: target.summary, inputs: inputs, accepted: accepted, seeds: seeds.count,
                                corpus: corpus.count, seconds: Date().timeIntervalSince(started), failure: nil,
                                seedRefusals: seedRefusals)
        FileHandle.standardOutput.write(try JSONEncoder().encode(result) + Data("\n".utf8))
    }
}
