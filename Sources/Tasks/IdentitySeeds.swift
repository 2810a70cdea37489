/// The identity task every buffer starts from (DESIGN.md §1).
public enum IdentitySeeds {
    public static let program = "def f(a):\n    return a"

    public static func single(type: String) -> Triple {
        Triple(type: type, program: program, input: "'Hello world'", output: "'Hello world'")
    }

    public static func induction() -> Triple {
        let inputs = ["'Hello world'", "1", "[1, 2, 3]", "{'a': 1}", "(True, None)", "2.5"]
        return Triple(type: "induction", program: program, inputs: inputs, outputs: inputs,
                      message: "Write a function that returns whatever you input")
    }
}
