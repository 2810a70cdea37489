import Foundation
@testable import Trainer
import XCTest

/// SOAR's in-place student on a tiny random qwen2 model: it trains only the blocks, the teacher's weights come
/// back bit for bit when it ends, and a kept student's change lands on top of the teacher's own update.
final class StudentTrainerTests: XCTestCase {
    func samples() -> [PolicySample] {
        [PolicySample(prompt: [1, 5, 7], completion: [9, 11, 3], reward: 1, group: "g"),
         PolicySample(prompt: [2, 4], completion: [6, 8, 10, 12], reward: -0.5, group: "g")]
    }

    func weights(_ model: LlamaModel) -> [Float] { Array(model.parameters.storage) }

    func testTheStudentTrainsTheBlocksAndEndsWithTheTeachersWeightsBitForBit() throws {
        let model = TinyModel.make(seed: 4, qwen2: true)
        let trainer = TRRTrainer(model: model, learningRate: 1e-2)
        let students = StudentTrainer(trainer: trainer, learningRate: 1e-2)
        let teacher = weights(model)
        let range = students.range
        XCTAssertEqual(range.lowerBound, model.parameters.layers[0].attentionNorm)
        XCTAssertEqual(range.upperBound, model.parameters.outputNorm + model.config.dimension)
        XCTAssertLessThan(range.upperBound, model.parameters.count, "the untied output matrix is outside the student's range")

        students.begin()
        try students.step(samples())
        try students.step(samples())
        let trained = weights(model)
        XCTAssertNotEqual(Array(trained[range]), Array(teacher[range]), "the student's blocks moved")
        XCTAssertEqual(Array(trained[..<range.lowerBound]), Array(teacher[..<range.lowerBound]), "the embedding is frozen")
        XCTAssertEqual(Array(trained[range.upperBound...]), Array(teacher[range.upperBound...]), "the output matrix is frozen")
        XCTAssertEqual(trainer.optimizer.step, 0, "the teacher's optimizer is untouched")
        XCTAssertEqual(students.optimizer.step, 2)
        students.end(keep: false)
        XCTAssertEqual(weights(model), teacher, "the teacher's weights are back bit for bit")
        XCTAssertFalse(students.promote(), "nothing was kept")
        XCTAssertEqual(weights(model), teacher)

        // A second student starts from zero moments again, and from the teacher's weights: it repeats the first.
        students.begin()
        try students.step(samples())
        try students.step(samples())
        XCTAssertEqual(weights(model), trained)
        students.end(keep: false)
    }

    func testAKeptStudentsChangeIsAddedAfterTheTeachersUpdate() throws {
        let model = TinyModel.make(seed: 9, qwen2: true)
        let trainer = TRRTrainer(model: model, learningRate: 1e-2)
        let students = StudentTrainer(trainer: trainer, learningRate: 1e-2)
        let teacher = weights(model)
        students.begin()
        try students.step(samples())
        let student = weights(model)
        students.end(keep: true)
        XCTAssertTrue(students.hasKept)
        XCTAssertEqual(weights(model), teacher, "kept or not, the teacher's weights are back until the promotion")

        try trainer.step(samples())
        let updated = weights(model)
        XCTAssertNotEqual(updated, teacher)
        XCTAssertTrue(students.promote())
        XCTAssertFalse(students.hasKept)
        let promoted = weights(model)
        for i in 0..<promoted.count {
            let expected = students.range.contains(i) ? updated[i] + (student[i] - teacher[i]) : updated[i]
            XCTAssertEqual(promoted[i], expected, accuracy: 1e-6, "weight \(i)")
        }
    }
}
