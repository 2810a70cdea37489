@testable import Trainer
import XCTest

/// The chat template is read from the model file: family and default system message.
final class ChatTemplateTests: XCTestCase {
    func testQwensTemplateFromItsFileGivesItsSystemLine() throws {
        guard let path = ModelCatalog.locate(ModelCatalog.qwenCoder) else { throw XCTSkip("Qwen2.5-Coder is not installed (`make model`)") }
        let template = try XCTUnwrap(try BPETokenizer(gguf: GGUFFile(path: path)).chatTemplate)
        XCTAssertEqual(template, ChatTemplate(family: .chatml, defaultSystem: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."))
        XCTAssertEqual(template.render(user: "hi"), "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                       + "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testSmolLMsTemplateWithARealNewlineInItsLiteral() throws {
        guard let path = DefaultModel.locateSmall() else { throw XCTSkip("SmolLM2 is not installed (`make model`)") }
        let template = try XCTUnwrap(try BPETokenizer(gguf: GGUFFile(path: path)).chatTemplate)
        XCTAssertEqual(template.defaultSystem, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    func testFamiliesByMarkerAndUnknownTemplatesRefused() {
        XCTAssertEqual(ChatTemplate(jinja: "{{ '<|start_header_id|>' + message['role'] }}")?.family, .llama3)
        XCTAssertNil(ChatTemplate(jinja: "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}"))
        XCTAssertNil(ChatTemplate(jinja: "{{ '<|im_start|>' + m.role }}")?.defaultSystem)
    }
}
