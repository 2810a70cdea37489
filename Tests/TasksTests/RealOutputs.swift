/// Completions real models wrote, kept verbatim as parser fixtures: the SmolLM2 and Qwen2.5-Coder
/// failures under the old protocol, and Qwen2.5-Coder-0.5B-Instruct's answers to this protocol's prompts
/// (smoke runs, 2026-11-29).
enum RealOutputs {
    /// SmolLM2 answering a deduction task in its own trained style, no `<answer>` block, no `assert`.
    static let smolOwnStyle = "The function appends the second argument.\nf('bcksrut', 'q') == 'bcksrutq'"
    /// SmolLM2 copying the old prompt's placeholder into the answer block.
    static let smolPlaceholder = "<think> I will answer </think>\n<answer>\n```output\nthe value\n```\n</answer>"
    /// SmolLM2 copying the old abduction example as its input.
    static let smolExampleInput = "<answer>\n```input\n\"abc\", [1, 2]\n```\n</answer>"
    /// Qwen: a real program in a ```python fence and no ```input block (the 0-valid smoke step).
    static let qwenNoInputBlock = """
    ```python
    def f(xs):
        return sorted( set( xs ))[-2]

    # Example usage:
    result = f([4, 1, 4, 3])
    print(result)  # Output: 3
    ```
    """
    /// Qwen: the call's arguments written as an assignment to `input`.
    static let qwenInputAssignment = """
    ```python
    def f(s):
        return s.split()[0]

    input = "Hello world"
    ```
    """
    /// Qwen: the function under another name, called on a variable, with helpers and prose around it.
    static let qwenRenamedWithVariable = """
    Here is a puzzle:

    ```python
    def helper(c):
        return c.isdigit()

    def count_digits(text):
        # Count the digits
        return sum(1 for c in text if helper(c))

    sample = "a1b22c333"
    print(count_digits(sample))  # Output: 6
    ```

    This function counts digits.
    """
    /// Qwen: the deduction answer inside a sentence, not on its own line.
    static let qwenInlineAssert = """
    6. The list of tuples is sorted in descending order based on the count of each character.
    7. The function returns the first two tuples in the sorted list.

    Therefore, the computed output for this input is `['a', 'b']`, i.e. `assert f("banana", 2) == ['a', 'b']`
    """
    /// Qwen: the completed assertion on its own line, in a fence, with prose after it.
    static let qwenFencedAssert = """
    The function `f` takes a single argument `a` and returns it. Therefore, the completed assertion should be:

    ```python
    assert f('Hello world') == 'Hello worlda'
    ```
    """
    /// Qwen: an abduction answer.
    static let qwenAbduction = """
    Given that the input string is `"x9j"`, the last character is `"j"`. Therefore, the function returns `"j"`.

    Thus, the completed assertion is:

    ```python
    assert f("x9j") == "j"
    ```
    """
    /// Qwen: induction inputs as a numbered list of calls, all the same.
    static let qwenNumberedCalls = """
    Test Calls:
    1. `f("Hello, world!")`
    2. `f("Hello, world!")`
    3. `f("Hello, world!")`

    Message:
    f does nothing.
    """
    /// Qwen: induction calls in a python block with the message as comments.
    static let qwenCallsWithCommentMessages = """
    ```python
    print(f(1))  # Message: 1
    print(f(2))  # Message: 2
    print(f(3))  # Message: 3
    ```
    """
    /// Qwen after twelve training steps (the 2026-11-30 experiment, held-out deduction): the assertion with a
    /// message, then an explanation.
    static let qwenAssertWithMessage = """
    assert f('Hello world') == 'world', "Test case 1 failed"

    Explanation:
    The assertion checks if the output of the function `f('Hello world')` is equal to 'world'. The `split()` method is used to split
    """
    /// Qwen at step 3 of the 2026-11-30 experiment: a valid deduction proposal, then an explanation longer than it.
    static let qwenProposalWithExplanation = "```python\ndef f(xs):\n    return sorted(set(xs))[-2]\n\nprint(f([4, 1, 4, 3]))\n```\n\nExplanation:\n1. The function `f` is defined to take a list `xs` as input.\n2. The list `xs` is converted to a set `xs_set` to remove duplicates.\n3. The last element of the set `xs_set` is selected using `xs_set.pop()`.\n4. The selected element is then converted back to a string and returned.\n\nThe call `f([4, 1, 4, 3])` is executed, and the function `f` returns the last element of the set, which is 3."
    /// Qwen at step 2 of that experiment: a valid induction proposal, its message repeated inside the block, the
    /// block cut by the token cap after eleven calls.
    static let qwenInductionProposal = "Message: The function `f(s)` takes a string `s` as input, splits it into a list of words using the `split()` method, and then returns the second-to-last element of the list, which is the last word.\n\n```python\nMessage: Example usage:\nprint(f(\"Hello world!\"))  # Output: \"world!\"\nprint(f(\"This is a test.\"))  # Output: \"test.\"\nprint(f(\"This is the first line.\"))  # Output: \"the first line.\"\nprint(f(\"This is the second line.\"))  # Output: \"second line.\"\nprint(f(\"This is the third line.\"))  # Output: \"third line.\"\nprint(f(\"This is the fourth line.\"))  # Output: \"fourth line.\"\nprint(f(\"This is the fifth line.\"))  # Output: \"fifth line.\"\nprint(f(\"This is the sixth line.\"))  # Output: \"sixth line.\"\nprint(f(\"This is the seventh line.\"))  # Output: \"seventh line.\"\nprint(f(\"This is the eighth line.\"))  # Output: \"eighth line.\"\nprint(f(\"This is the ninth line.\"))  # Output: \"ninth line.\"\n"
}
